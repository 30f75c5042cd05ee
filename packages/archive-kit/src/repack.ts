/**
 * Repacking: an upstream archive in, a safe and deterministic module archive out, with the
 * module at the archive root.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, pipeline as streamPipeline, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError, UnavailableError, isOpenDepotError } from '@opendepot/sdk';
import { TopLevelStripper } from './entry-path.ts';
import { formatBytes, resolveLimits, type ArchiveLimits } from './limits.ts';
import { readTar } from './read-tar.ts';
import { readZip } from './read-zip.ts';
import { SpooledTree } from './tree.ts';
import { writeArchive, type OutputFormat } from './write.ts';

/** Formats an upstream archive can come in: a GitHub tarball or zipball, or `git archive` output. */
export type InputFormat = 'tar.gz' | 'zip' | 'tar';

/** Options of {@link repackArchive}. */
export interface RepackOptions {
  /** The upstream archive's format. */
  from: InputFormat;
  /** The format to produce. */
  to: OutputFormat;
  /** Remove the one top-level directory every entry shares (GitHub archives have `<owner>-<repo>-<sha>/`). */
  stripTopLevelDir?: boolean;
  /** Overrides of {@link DEFAULT_ARCHIVE_LIMITS}. */
  limits?: Partial<ArchiveLimits>;
  /** Where to spool; default: the OS temp directory. */
  tmpDir?: string;
  signal?: AbortSignal;
}

/** A repacked archive. Its bytes live in an already-unlinked temp file, so nothing is left behind. */
export interface RepackedArchive {
  /** The archive's bytes; read it once. */
  body: Readable;
  size: number;
  /** SHA-256 of `body`, hex. */
  sha256: string;
  /** Entries written (files and directories). */
  entries: number;
  /** What was left out (links pointing outside, special files). */
  warnings: readonly string[];
}

/**
 * Reads an upstream archive completely (to sort its entries and enforce the limits), then writes
 * it in `options.to`. Throws InputError for an unsafe, oversized or corrupt archive, and
 * UnavailableError when reading `input` itself fails (a broken download is worth retrying).
 */
export async function repackArchive(input: AsyncIterable<Uint8Array>, options: RepackOptions): Promise<RepackedArchive> {
  const limits = resolveLimits(options.limits);
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'opendepot-repack-'));
  let tree: SpooledTree | undefined;
  try {
    tree = await readIntoTree(input, dir, limits, options);
    const entries = tree.finish();
    const outPath = join(dir, `archive.${options.to}`);
    const written = await writeArchive(options.to, entries, tree, outPath, options.signal);
    const handle = await open(outPath, 'r');
    return { body: handle.createReadStream(), size: written.size, sha256: written.sha256, entries: entries.length, warnings: [...tree.warnings] };
  } catch (err) {
    throw classifyReadError(err, options);
  } finally {
    await tree?.close().catch(() => undefined);
    // The output file is unlinked here too; the open handle keeps its bytes readable.
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Reads an archive into a tree spooled under `dir`, enforcing the limits as bytes arrive (the
 * caller closes the tree). Shared by repacking and by unpacking for scans.
 */
export async function readIntoTree(
  input: AsyncIterable<Uint8Array>,
  dir: string,
  limits: ArchiveLimits,
  options: { from: InputFormat; stripTopLevelDir?: boolean; signal?: AbortSignal },
): Promise<SpooledTree> {
  const tree = await SpooledTree.create(join(dir, 'spool'), limits);
  try {
    const stripper = options.stripTopLevelDir ? new TopLevelStripper() : undefined;
    const upstream = Readable.from(guardUpstream(input));
    const compressedLimit = new ByteLimit(limits.maxInputBytes, `the upstream archive is larger than ${formatBytes(limits.maxInputBytes)}, the limit`);
    if (options.from === 'zip') {
      // Zip needs random access: spool it first, bounded like any other input.
      const zipPath = join(dir, 'upstream.zip');
      await pipeline(upstream, compressedLimit, createWriteStream(zipPath, { flags: 'wx', mode: 0o600 }), signalOption(options.signal));
      await readZip(zipPath, tree, stripper, limits, options.signal);
    } else {
      // Headers and padding come on top of the contents; a stream beyond that is a bomb.
      const tarBytes = limits.maxTotalBytes + limits.maxEntries * 1536 + 1024 * 1024;
      const tarLimit = new ByteLimit(tarBytes, `the upstream archive unpacks to more than ${formatBytes(limits.maxTotalBytes)}, the limit`);
      // The callback form returns the last stream and destroys every stage with the first error.
      const tarStream = options.from === 'tar.gz' ? chain(upstream, compressedLimit, createGunzip(), tarLimit) : chain(upstream, compressedLimit);
      await readTar(tarStream, tree, stripper, options.signal);
    }
    return tree;
  } catch (err) {
    await tree.close().catch(() => undefined);
    throw err;
  }
}

/** Marks failures of the upstream stream itself, so that they are not taken for a bad archive. */
async function* guardUpstream(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* input;
  } catch (err) {
    if (isOpenDepotError(err)) throw err;
    throw new UnavailableError(`reading the upstream archive failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * What a failure while reading an archive means: a corrupt archive (InputError) unless it is
 * already typed, an abort, or trouble on our side of the file system. Unpacking uses it too.
 */
export function classifyReadError(err: unknown, options: { from: InputFormat; signal?: AbortSignal }): unknown {
  if (isOpenDepotError(err)) return err;
  if (options.signal?.aborted) return options.signal.reason ?? err;
  // File-system trouble on our side (disk full, permissions) is not the archive's fault.
  if (err instanceof Error && 'syscall' in err) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InputError(`the upstream archive is not a valid ${options.from} archive: ${message}`, { cause: err });
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function chain(first: Readable, ...rest: Transform[]): Readable {
  return streamPipeline([first, ...rest], () => undefined) as unknown as Readable;
}

/** Fails with an InputError once more than `limit` bytes have passed. */
class ByteLimit extends Transform {
  readonly #limit: number;
  readonly #message: string;
  #count = 0;

  constructor(limit: number, message: string) {
    super();
    this.#limit = limit;
    this.#message = message;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#count += chunk.byteLength;
    if (this.#count > this.#limit) callback(new InputError(this.#message));
    else callback(null, chunk);
  }
}
