/**
 * The hashes `.terraform.lock.hcl` records for a provider package (protocol.md §3.7):
 * `zh:` is the SHA-256 of the zip; `h1:` is Go's `dirhash.Hash1` over the zip's entries, as
 * `dirhash.HashZip` computes it (every entry name counts, directory entries included).
 * The operator computes them from the spooled package before it is stored (the zip's central
 * directory is at its end, so the whole package is spooled first), never by reading storage back.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { InputError } from '@opendepot/sdk';
import { LimitExceededError } from './limit-errors.ts';
import { InflatedCounter, readCheckedEntries, type ZipLayoutLimits } from './zip-layout.ts';

/** The hashes of one provider package. */
export interface ProviderPackageHashes {
  /** `h1:<base64>`: dirhash Hash1 of the zip's contents. */
  h1: string;
  /** `zh:<hex>`: SHA-256 of the zip file. */
  zh: string;
  /** SHA-256 of the zip file, lower-case hex. */
  sha256: string;
  /** Bytes of the zip file. */
  size: number;
}

/** Caps of a provider package, checked from its central directory before any entry is hashed. */
export interface ProviderZipLimits {
  /** Default {@link DEFAULT_PROVIDER_ZIP_LIMITS}.maxEntries (operator.limits.providerZipMaxEntries). */
  maxEntries?: number;
  /** Default {@link DEFAULT_PROVIDER_ZIP_LIMITS}.maxUncompressedBytes (operator.limits.providerZipMaxUncompressedBytes). */
  maxUncompressedBytes?: number;
}

/** Generous for real providers: the AWS provider unzips to under 1 GiB. */
export const DEFAULT_PROVIDER_ZIP_LIMITS = Object.freeze({ maxEntries: 10_000, maxUncompressedBytes: 4 * 1024 * 1024 * 1024 });

function layoutLimits(limits: ProviderZipLimits = {}): ZipLayoutLimits {
  return {
    maxEntries: limits.maxEntries ?? DEFAULT_PROVIDER_ZIP_LIMITS.maxEntries,
    maxUncompressedBytes: limits.maxUncompressedBytes ?? DEFAULT_PROVIDER_ZIP_LIMITS.maxUncompressedBytes,
    refuse: (limit, message) => new LimitExceededError(`the provider package is refused: ${message}`, limit === 'maxEntries' ? 'providerZipMaxEntries' : 'providerZipMaxUncompressedBytes'),
  };
}

/**
 * Computes `h1:` and `zh:` of a provider package while it streams. The zip is spooled to a
 * temporary file (its central directory is at the end), read entry by entry, then removed.
 */
export async function providerPackageHashes(zip: AsyncIterable<Uint8Array>, options: { tmpDir?: string; signal?: AbortSignal; limits?: ProviderZipLimits } = {}): Promise<ProviderPackageHashes> {
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'opendepot-provider-hash-'));
  try {
    const path = join(dir, 'package.zip');
    return await spooledPackageHashes(path, await spoolHashed(zip, path, options.signal), options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What {@link spoolHashed} wrote. */
export interface SpooledFile {
  /** SHA-256 of the bytes written, lower-case hex. */
  sha256: string;
  size: number;
}

/**
 * Writes `body` to a new file at `path` (owner-only, never over an existing file), taking its
 * SHA-256 and size as it is written, so nothing has to read it again to know them.
 */
export async function spoolHashed(body: AsyncIterable<Uint8Array>, path: string, signal?: AbortSignal): Promise<SpooledFile> {
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.byteLength;
      done(null, chunk);
    },
  });
  await pipeline(body, hashing, createWriteStream(path, { flags: 'wx', mode: 0o600 }), signal ? { signal } : {});
  return { sha256: hash.digest('hex'), size };
}

/**
 * The hashes of a provider package already spooled to `path`, whose SHA-256 and size were taken
 * as it was written; the zip limits are checked from its central directory before any entry is
 * inflated.
 */
export async function spooledPackageHashes(path: string, whole: { sha256: string; size: number }, options: { signal?: AbortSignal; limits?: ProviderZipLimits } = {}): Promise<ProviderPackageHashes> {
  return { h1: await hashZipFile(path, options.signal, options.limits), zh: `zh:${whole.sha256}`, sha256: whole.sha256, size: whole.size };
}

/** `dirhash.HashZip(path, dirhash.Hash1)`. */
export async function hashZipFile(path: string, signal?: AbortSignal, limits?: ProviderZipLimits): Promise<string> {
  let zip: yauzl.ZipFile;
  try {
    // Raw names: Go hashes the bytes of each name as stored, whatever the encoding flag says.
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    throw new InputError(`the provider package is not a readable zip archive: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Go keeps the last entry of a duplicated name (a map), yet lists the name once per entry.
    const names: Buffer[] = [];
    const hashes = new Map<string, string>();
    // Every limit is checked on the central directory before a single entry is inflated.
    const layout = layoutLimits(limits);
    const entries = await readCheckedEntries(zip, layout, signal);
    const inflated = new InflatedCounter(layout);
    for (const entry of entries) {
      signal?.throwIfAborted();
      const name = Buffer.from(entry.fileNameRaw);
      if (name.includes(0x0a)) throw new InputError('the provider package has a file name with a newline, which dirhash refuses');
      if (entry.isEncrypted()) throw new InputError(`the provider package entry ${JSON.stringify(name.toString('utf8'))} is encrypted`);
      names.push(name);
      hashes.set(name.toString('latin1'), await hashEntry(zip, entry, inflated, signal));
    }
    names.sort(Buffer.compare); // Go's sort.Strings: byte order
    const summary = createHash('sha256');
    for (const name of names) {
      summary.update(`${hashes.get(name.toString('latin1')) ?? ''}  `);
      summary.update(name);
      summary.update('\n');
    }
    return `h1:${summary.digest('base64')}`;
  } finally {
    zip.close();
  }
}

async function hashEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, inflated: InflatedCounter, signal: AbortSignal | undefined): Promise<string> {
  const stream = await zip.openReadStreamPromise(entry);
  const hash = createHash('sha256');
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      inflated.add(chunk.byteLength);
      hash.update(chunk);
    }
  } finally {
    stream.destroy();
  }
  return hash.digest('hex');
}
