/**
 * An in-memory archive source for the testkit's own tests: correct by default, with one flaw
 * switched on to prove the archive-source conformance suite catches it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError } from '../src/errors.ts';
import type { ArchiveSource, ArchiveSubject, FetchOptions, FetchedArchive, ListOptions, UpstreamVersion } from '../src/archive-source.ts';
import { makeTarGz, sha256Hex } from '../src/testkit/index.ts';

/** A defect the source can be given. */
export type SourceFlaw = 'v-prefixed-versions' | 'drops-ref' | 'plain-not-found' | 'forbidden-as-unauthenticated' | 'ignores-abort' | 'truncated-archive' | 'wrong-sha256' | 'no-size-limit';

/** The upstream: one module, `acme/vpc`, tags `v1.0.0` and `1.1.0`; `failing` makes it answer a status. */
export const upstream = {
  archives: new Map([
    ['v1.0.0', makeTarGz({ 'main.tf': '# v1\n' })],
    ['1.1.0', makeTarGz({ 'main.tf': '# v1.1\n', 'README.md': '# vpc\n' })],
  ]),
  failing: undefined as number | undefined,
};

export class MemoryArchiveSource implements ArchiveSource {
  readonly #flaw: SourceFlaw | undefined;
  readonly #maxBytes: number;

  constructor(options: { flaw?: SourceFlaw; maxBytes?: number } = {}) {
    this.#flaw = options.flaw;
    this.#maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  }

  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    await this.#answer(subject, options.signal);
    return [...upstream.archives.keys()].map((tag) => {
      const version = this.#flaw === 'v-prefixed-versions' ? tag : tag.replace(/^v/, '');
      return tag === version || this.#flaw === 'drops-ref' ? { version } : { version, ref: tag };
    });
  }

  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    await this.#answer(subject, options.signal);
    const tag = [`v${version}`, version].find((t) => upstream.archives.has(t));
    const bytes = tag === undefined ? undefined : upstream.archives.get(tag);
    if (bytes === undefined) throw this.#notFound(`no version ${version}`);
    if (bytes.length > this.#maxBytes && this.#flaw !== 'no-size-limit') throw new InputError(`the archive is larger than ${this.#maxBytes} bytes`);
    const served = this.#flaw === 'truncated-archive' ? bytes.subarray(0, bytes.length - 20) : bytes;
    return {
      body: (async function* () {
        yield served;
      })(),
      filename: `vpc-${version}.tar.gz`,
      expectedSha256: this.#flaw === 'wrong-sha256' ? sha256Hex(Buffer.from('other')) : sha256Hex(bytes),
    };
  }

  async #answer(subject: ArchiveSubject, signal: AbortSignal | undefined): Promise<void> {
    if (this.#flaw === 'ignores-abort') await sleep(1);
    else {
      signal?.throwIfAborted();
      await sleep(1, undefined, signal ? { signal } : {});
    }
    if (upstream.failing === 503) throw new UnavailableError('the upstream answered 503');
    if (upstream.failing === 401) throw new UnauthenticatedError('the upstream answered 401');
    if (upstream.failing === 403) throw this.#flaw === 'forbidden-as-unauthenticated' ? new UnauthenticatedError('403') : new ForbiddenError('the upstream answered 403');
    if (subject.name !== 'vpc') throw this.#notFound(`no module ${subject.name}`);
  }

  #notFound(message: string): Error {
    return this.#flaw === 'plain-not-found' ? new Error(message) : new NotFoundError(message);
  }
}
