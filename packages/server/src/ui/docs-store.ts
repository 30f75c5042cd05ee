/**
 * Reads module documentation from storage (kept beside each archive by the operator) for the
 * module page and the JSON API, with a small cache: documentation never changes for a stored
 * archive, so it is keyed by the archive's checksum and read once.
 */
import { moduleDocsKey, readModuleDocs, type ModuleDocs } from '@opendepot/core';
import { isOpenDepotError, type Logger } from '@opendepot/sdk';
import type { ResolveStorage } from '../archive/serve-archive.ts';
import type { ServableArchive } from '../catalog/types.ts';

/** The most documentation objects cached, and the largest read. */
const CACHE_ENTRIES = 256;
const MAX_DOCS_BYTES = 2 * 1024 * 1024;

/** Documentation of stored module versions. */
export class DocsStore {
  readonly #cache = new Map<string, ModuleDocs | null>();
  readonly #resolve: ResolveStorage;
  readonly #log: Logger;

  constructor(resolve: ResolveStorage, log: Logger) {
    this.#resolve = resolve;
    this.#log = log;
  }

  /** The documentation of `archive`, or undefined when there is none (not yet documented, or unreadable). */
  async read(archive: ServableArchive): Promise<ModuleDocs | undefined> {
    const key = `${archive.storageKey}@${archive.checksum}`;
    if (this.#cache.has(key)) {
      const hit = this.#cache.get(key)!;
      // Most recently used last, so the oldest is evicted first.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit ?? undefined;
    }
    const docs = await this.#load(archive);
    // A missing document is not cached: the operator may write it on its next verification.
    if (docs !== undefined) {
      this.#cache.set(key, docs);
      if (this.#cache.size > CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return docs;
  }

  async #load(archive: ServableArchive): Promise<ModuleDocs | undefined> {
    try {
      const storage = await this.#resolve(archive.storageConfig, 'spec.storageConfig');
      const { body } = await storage.get(moduleDocsKey(archive.storageKey));
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > MAX_DOCS_BYTES) throw new Error(`larger than ${MAX_DOCS_BYTES} bytes`);
        chunks.push(Buffer.from(chunk));
      }
      return readModuleDocs(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (err) {
      if (!isOpenDepotError(err, 'not_found'))
        this.#log.warn('cannot read the documentation of a module version', { storageKey: archive.storageKey, err: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }
}
