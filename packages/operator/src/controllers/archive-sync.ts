/**
 * The storage half of the Version controller: fetch an archive and store it with its hash,
 * and check a stored archive against the checksum recorded in status. Only SDK contracts here,
 * so any storage plugin and any archive source work the same way.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isOpenDepotError, UnavailableError, type ArchiveSource, type ArchiveSubject, type ObjectInfo, type StorageBackend } from '@opendepot/sdk';
import { spooledPackageHashes, spoolHashed, type ProviderZipLimits, type SpooledFile } from '@opendepot/archive-kit';

/** What a re-verification of a stored archive found. */
export type VerifyResult = { state: 'ok'; size: number } | { state: 'missing' } | { state: 'mismatch'; actualSha256: string; size: number };

/**
 * Reads the whole stored object and hashes it. Metadata alone is not enough: an attacker who
 * overwrites the bytes on disk or in a bucket does not update the checksum beside them.
 */
export async function verifyStored(storage: StorageBackend, key: string, sha256: string, signal?: AbortSignal): Promise<VerifyResult> {
  let body: AsyncIterable<Uint8Array>;
  try {
    ({ body } = await storage.get(key, signal ? { signal } : {}));
  } catch (err) {
    if (isOpenDepotError(err, 'not_found')) return { state: 'missing' };
    throw err;
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  const actual = hash.digest('hex');
  return actual === sha256 ? { state: 'ok', size } : { state: 'mismatch', actualSha256: actual, size };
}

/** Opens `version` at the source with the format, platform and signal of `options`. */
function openUpstream(source: ArchiveSource, subject: ArchiveSubject, version: string, options: Pick<FetchAndStoreOptions, 'format' | 'signal' | 'os' | 'arch'>) {
  return source.fetch(subject, version, {
    format: options.format,
    ...(options.signal && { signal: options.signal }),
    ...(options.os && { os: options.os }),
    ...(options.arch && { arch: options.arch }),
  });
}

/** Options of {@link fetchAndStore}. */
export interface FetchAndStoreOptions {
  format: 'zip' | 'tar.gz';
  /** Refuse to store anything that does not hash to this (a restore, or an immutable version). */
  expectedSha256?: string;
  signal?: AbortSignal;
  os?: string;
  arch?: string;
  /**
   * Looks at the fetched archive (a local file) before anything is stored: false keeps it out
   * of storage (a scan policy refusing it). The archive is spooled to disk first only then.
   */
  beforeStore?(archivePath: string): Promise<boolean>;
  /**
   * Compute a provider package's lock-file hashes (`h1:`, `zh:`) from the spooled archive before
   * it is stored, within these zip limits (the archive is spooled to disk first only then).
   */
  providerHashes?: { limits?: ProviderZipLimits };
  /** Where to spool (the operator's spool directory); default: the OS temp directory. */
  spoolDir?: string;
}

/** The lock-file hashes of a stored provider package. */
export interface StoredProviderHashes {
  h1: string;
  zh: string;
}

/** The outcome of {@link fetchAndStore}. */
export type StoreResult = { state: 'stored'; info: ObjectInfo; protocols?: string[]; hashes?: StoredProviderHashes } | { state: 'upstream-differs'; message: string } | { state: 'refused' };

/**
 * Fetches `version` from `source` and streams it into `storage` under `key`, hashing as it goes.
 * With `expectedSha256` (or an upstream-vouched checksum) the backend refuses to make a
 * different archive visible, so a changed upstream never replaces a known-good object.
 */
export async function fetchAndStore(source: ArchiveSource, subject: ArchiveSubject, version: string, storage: StorageBackend, key: string, options: FetchAndStoreOptions): Promise<StoreResult> {
  const fetched = await openUpstream(source, subject, version, options);
  const expected = options.expectedSha256 ?? fetched.expectedSha256;
  let body: AsyncIterable<Uint8Array> = fetched.body;
  let spool: string | undefined;
  let spooled: SpooledFile | undefined;
  let hashes: StoredProviderHashes | undefined;
  let putting = false;
  try {
    if (options.beforeStore || options.providerHashes) {
      // Spooled when something must look at the whole archive before it is stored; hashed as it is written.
      spool = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'opendepot-fetch-'));
      const archivePath = join(spool, `archive.${options.format}`);
      spooled = await spoolHashed(fetched.body, archivePath, options.signal);
      if (expected && spooled.sha256 !== expected) {
        return { state: 'upstream-differs', message: `the upstream archive of ${version} does not match the expected SHA-256 ${expected}: its SHA-256 is ${spooled.sha256}` };
      }
      if (options.beforeStore && !(await options.beforeStore(archivePath))) return { state: 'refused' };
      if (options.providerHashes) {
        const { h1, zh } = await spooledPackageHashes(archivePath, spooled, {
          ...(options.signal && { signal: options.signal }),
          ...(options.providerHashes.limits && { limits: options.providerHashes.limits }),
        });
        hashes = { h1, zh };
      }
      body = createReadStream(archivePath);
    }
    // The backend checks the bytes against the upstream's checksum, or against the spool's own hash.
    const sha256 = expected ?? spooled?.sha256;
    putting = true;
    const info = await storage.put(key, body, {
      ...(sha256 && { sha256 }),
      ...(options.signal && { signal: options.signal }),
      ...(fetched.size !== undefined ? { size: fetched.size } : spooled && { size: spooled.size }),
      contentType: options.format === 'zip' ? 'application/zip' : 'application/gzip',
    });
    // A Version is never Ready without the checksum it is verified against later.
    if (!/^[0-9a-f]{64}$/.test(info.sha256 ?? '')) {
      throw new UnavailableError(`the storage backend stored ${key} but reported no SHA-256 (${JSON.stringify(info.sha256)}); the put is retried`);
    }
    return { state: 'stored', info, ...(fetched.protocols && { protocols: fetched.protocols }), ...(hashes && { hashes }) };
  } catch (err) {
    // Only the put's refusal can mean the upstream differs; a refusal while spooling (a zip limit) stands as it is.
    if (!putting) throw err;
    // Only an integrity error means the bytes differ from the expected checksum; any other
    // failure (a refused key, a store that is down) is reported as what it is.
    if (expected && isOpenDepotError(err, 'integrity')) {
      return { state: 'upstream-differs', message: `the upstream archive of ${version} does not match the expected SHA-256 ${expected}: ${(err as Error).message}` };
    }
    throw err;
  } finally {
    if (spool !== undefined) await rm(spool, { recursive: true, force: true });
  }
}

/**
 * The SHA-256 the upstream has for `version` now, storing nothing: the checksum it vouches for
 * (a provider's signed SHA256SUMS, checked by the source) without reading the body, else the
 * hash of the bytes it sends. What a periodic verify of an immutable Version compares.
 */
export async function upstreamSha256(source: ArchiveSource, subject: ArchiveSubject, version: string, options: Pick<FetchAndStoreOptions, 'format' | 'signal' | 'os' | 'arch'>): Promise<string> {
  const fetched = await openUpstream(source, subject, version, options);
  if (fetched.expectedSha256) {
    // The body is not needed: let its connection go.
    const body = fetched.body as Partial<Readable> & AsyncIterable<Uint8Array>;
    if (typeof body.destroy === 'function') body.destroy();
    else await body[Symbol.asyncIterator]().return?.();
    return fetched.expectedSha256;
  }
  const hash = createHash('sha256');
  for await (const chunk of fetched.body) hash.update(chunk);
  return hash.digest('hex');
}
