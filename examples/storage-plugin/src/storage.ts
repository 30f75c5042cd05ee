/** The WebDAV StorageBackend. The layout on the server and why it is atomic: see layout.ts. */
import { Readable } from 'node:stream';
import {
  ConflictError,
  InputError,
  NotFoundError,
  UnavailableError,
  checkPutOptions,
  checkRange,
  verifySha256,
  type GetOptions,
  type Logger,
  type ObjectInfo,
  type PutOptions,
  type RequestOptions,
  type StorageBackend,
  type StorageCapabilities,
} from '@opendepot/sdk';
import type { DavClient, DavPath } from './dav-client.ts';
import { keySegments } from './keys.ts';
import { currentVersion, newId, nextSeq, parseListing, temporaryName, trashCollection, versionName, versionsCollection, type Listing, type Version } from './layout.ts';
import { downloadStream, hashing, type UploadTally } from './streams.ts';

/** How often a get re-lists a key whose version vanished (a concurrent put replaced it). */
const MAX_VERSION_HOPS = 10;
/** How often a put retries its commit when another writer took the same version name. */
const MAX_COMMIT_TRIES = 5;
/** Temporaries older than this are abandoned uploads; a later put of the key removes them. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** Options of {@link WebDavStorage}. */
export interface WebDavStorageOptions {
  /** Where best-effort clean-up failures are reported. Default: nowhere. */
  logger?: Logger;
  /** Milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Objects on a WebDAV server. Puts are atomic and hashed while streaming; `stat` is one
 * PROPFIND; whole-object downloads are checked against the recorded checksum; no presigned URLs
 * (WebDAV has none: the OpenDepot server streams the downloads).
 */
export class WebDavStorage implements StorageBackend {
  readonly capabilities: StorageCapabilities = { presign: false };
  readonly #dav: DavClient;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(dav: DavClient, options: WebDavStorageOptions = {}) {
    this.#dav = dav;
    this.#logger = options.logger ?? silent;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Checks the base collection is there (creating it when only it is missing) and that the
   * credentials are accepted. Throws `InputError` naming `url` when it cannot be used.
   */
  async init(signal?: AbortSignal): Promise<this> {
    const found = await this.#dav.probe([], signal);
    if (found === 'file') throw new InputError(`${this.#dav.base.href} is a file, not a collection`, { field: 'url' });
    if (found === 'missing') {
      const made = await this.#dav.mkcol([], signal);
      if (made === 'parent-missing')
        throw new InputError(`${this.#dav.base.href} does not exist, and neither does its parent collection`, { field: 'url', hint: 'Create the parent collection, or correct url.' });
    }
    return this;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    const segments = keySegments(key);
    const { signal } = options;
    const { sha256: expected, size: announced } = checkPutOptions(options);
    signal?.throwIfAborted();
    const collection = versionsCollection(segments);
    await this.#ensureCollection(collection, signal);

    // 1. The content goes to a temporary no reader looks at.
    const id = newId();
    const temporary = [...collection, temporaryName(this.#now(), id)];
    const tally: UploadTally = { size: 0 };
    try {
      await this.#dav.put(temporary, hashing(body, tally, announced), { ...optional('contentLength', announced), ...optional('signal', signal) });
      verifySha256(key, expected, tally.sha256!);
      signal?.throwIfAborted(); // the last moment an abort can still cancel the put
    } catch (err) {
      this.#removeLater(temporary, 'temporary upload');
      throw tally.error ?? err;
    }

    // 2. The temporary becomes a version: this rename is the moment the object becomes visible.
    const sha256 = tally.sha256!;
    const size = tally.size;
    for (let attempt = 1; ; attempt++) {
      const listing = await this.#listing(collection, signal).catch((err: unknown) => {
        this.#removeLater(temporary, 'temporary upload');
        throw err;
      });
      const version = { seq: nextSeq(listing), writtenAt: this.#now(), sha256, size };
      const name = versionName(version, id);
      const moved = await this.#dav.move(temporary, [...collection, name], false).catch((err: unknown) => {
        this.#removeLater(temporary, 'temporary upload');
        throw err;
      });
      if (moved === 'moved') {
        // 3. Retire what this version supersedes; failures only leave garbage behind.
        await this.#retire(collection, listing, name).catch((err: unknown) => this.#logger.warn('could not remove superseded versions', { key, err: String(err) }));
        return { key, size, sha256, modifiedAt: new Date(version.writtenAt) };
      }
      if (moved === 'source-missing' || moved === 'parent-missing') {
        throw new ConflictError(`${key} was deleted while it was being written`, { hint: 'Retry the write.' });
      }
      if (attempt >= MAX_COMMIT_TRIES) {
        this.#removeLater(temporary, 'temporary upload');
        throw new ConflictError(`${key} kept being written by others while this put tried to commit`, { hint: 'Retry the write.' });
      }
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<{ body: NodeJS.ReadableStream & AsyncIterable<Uint8Array>; info: ObjectInfo }> {
    const segments = keySegments(key);
    const range = checkRange(options.range);
    const { signal } = options;
    signal?.throwIfAborted();
    const collection = versionsCollection(segments);
    let vanished: string | undefined;
    for (let hop = 0; ; hop++) {
      const version = currentVersion(await this.#listing(collection, signal));
      if (version === undefined) throw new NotFoundError(`no object stored under ${key}`);
      const info = infoOf(key, version);
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? version.size - 1, version.size - 1);
      const length = Math.max(0, end - start + 1);
      if (length === 0) return { body: Readable.from([], { objectMode: false }), info };

      const whole = length === version.size;
      const response = await this.#dav.get([...collection, version.name], { ...(whole ? {} : { range: `bytes=${start}-${end}` }), ...optional('signal', signal) });
      if (response === undefined) {
        // A put replaced the object between the listing and the download: list again. The
        // same version missing twice means someone removed it outside OpenDepot.
        if (version.name === vanished) throw new NotFoundError(`the current version of ${key} is missing on the WebDAV server`);
        if (hop >= MAX_VERSION_HOPS) throw new UnavailableError(`${key} kept being replaced while it was being opened`);
        vanished = version.name;
        continue;
      }
      const skip = response.statusCode === 206 ? 0 : start; // 200 to a range: the server sent it all
      const body = downloadStream(response, { what: key, skip, length, ...(whole ? { sha256: version.sha256 } : {}) }, signal);
      return { body, info };
    }
  }

  async stat(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const segments = keySegments(key);
    options.signal?.throwIfAborted();
    const version = currentVersion(await this.#listing(versionsCollection(segments), options.signal));
    if (version === undefined) throw new NotFoundError(`no object stored under ${key}`);
    return infoOf(key, version);
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    const segments = keySegments(key);
    const { signal } = options;
    signal?.throwIfAborted();
    const collection = versionsCollection(segments);
    // Some servers answer a MOVE of nothing with 500, not 404: look first.
    if ((await this.#dav.probe(collection, signal)) === 'missing') return;
    // Renaming the collection away makes every version vanish at once; then it is removed.
    const trash = trashCollection(segments, newId());
    let moved;
    try {
      moved = await this.#dav.move(collection, trash, true, signal);
    } catch (err) {
      // A concurrent delete may have taken it first.
      if (!signal?.aborted && (await this.#dav.probe(collection, signal)) === 'missing') return;
      throw err;
    }
    if (moved !== 'moved') return; // nothing there: already gone
    try {
      await this.#dav.delete(trash, true, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      this.#logger.warn('could not remove a deleted object from the WebDAV server', { key, trash: trash.join('/'), err: String(err) });
    }
  }

  /** Closes the kept-alive connections to the server. */
  async close(): Promise<void> {
    this.#dav.close();
  }

  /** What a key's collection holds; empty when it does not exist. */
  async #listing(collection: DavPath, signal: AbortSignal | undefined): Promise<Listing> {
    return parseListing((await this.#dav.list(collection, signal)) ?? []);
  }

  /** Creates the collection and, when needed, its parents (never the base: `init` did that). */
  async #ensureCollection(collection: DavPath, signal: AbortSignal | undefined): Promise<void> {
    if ((await this.#dav.mkcol(collection, signal)) !== 'parent-missing') return;
    for (let depth = 1; depth <= collection.length; depth++) {
      const made = await this.#dav.mkcol(collection.slice(0, depth), signal);
      if (made === 'parent-missing') throw new UnavailableError(`cannot create ${collection.slice(0, depth).join('/')} on the WebDAV server: its parent is missing (was it removed meanwhile?)`);
    }
  }

  /** Removes the versions older than `current`, and temporaries abandoned long ago. */
  async #retire(collection: DavPath, listing: Listing, current: string): Promise<void> {
    const now = this.#now();
    const doomed = [...listing.versions.filter((v: Version) => v.name < current).map((v) => v.name), ...listing.temporaries.filter((t) => now - t.createdAt > ABANDONED_AFTER_MS).map((t) => t.name)];
    for (const name of doomed) await this.#dav.delete([...collection, name], false);
    if (doomed.length > 0) this.#logger.debug('retired superseded versions', { collection: collection.join('/'), count: doomed.length });
  }

  /** Deletes in the background (never with the caller's signal, which may have aborted). */
  #removeLater(path: DavPath, what: string): void {
    void this.#dav.delete(path, false).catch((err: unknown) => this.#logger.warn(`could not remove a ${what}; a later put of the key removes it`, { path: path.join('/'), err: String(err) }));
  }
}

function infoOf(key: string, version: Version): ObjectInfo {
  return { key, size: version.size, sha256: version.sha256, modifiedAt: new Date(version.writtenAt) };
}

/** `{ [name]: value }`, or `{}` when the value is undefined (for exact optional properties). */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
