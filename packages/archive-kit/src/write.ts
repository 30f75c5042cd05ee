/**
 * Writes a finished tree as a deterministic zip or tar.gz: entries in the tree's order, one fixed
 * timestamp, modes 0644/0755, owner 0, no extra metadata. The same tree always gives the same bytes
 * (for one Node.js zlib), which is what lets the operator compare a re-fetched archive's sha256
 * with the recorded one.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import type { SpooledTree, TreeEntry } from './tree.ts';

/** The archive formats a module can be written as. */
export type OutputFormat = 'zip' | 'tar.gz';

/** 1980-01-01T00:00:00Z: the earliest time a zip can hold, used for every entry of a tar too. */
export const FIXED_MTIME_UTC = new Date(Date.UTC(1980, 0, 1));
const COMPRESSION_LEVEL = 9;

/** What was written. */
export interface WrittenArchive {
  size: number;
  sha256: string;
}

/** Writes `entries` (from `tree`) to `outPath` in `format`. */
export async function writeArchive(format: OutputFormat, entries: TreeEntry[], tree: SpooledTree, outPath: string, signal?: AbortSignal): Promise<WrittenArchive> {
  const digest = new DigestStream();
  const sink = createWriteStream(outPath, { flags: 'wx', mode: 0o600 });
  const options = signal ? { signal } : {};
  if (format === 'zip') {
    const zip = new yazl.ZipFile();
    const done = pipeline(zip.outputStream as Readable, digest, sink, options);
    for (const entry of entries) addZipEntry(zip, entry, tree);
    zip.end();
    await done;
  } else {
    const pack = tar.pack();
    const done = pipeline(pack, createGzip({ level: COMPRESSION_LEVEL }), digest, sink, options);
    done.catch(() => undefined);
    try {
      for (const entry of entries) await addTarEntry(pack, entry, tree);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
    await done;
  }
  return { size: digest.size, sha256: digest.hex() };
}

function addZipEntry(zip: yazl.ZipFile, entry: TreeEntry, tree: SpooledTree): void {
  // yazl encodes DOS times from local time, so a local-time date gives 1980-01-01 00:00 in every
  // time zone. Made per entry: the time zone can change while the process runs.
  const mtime = new Date(1980, 0, 1);
  if (entry.kind === 'directory') {
    zip.addEmptyDirectory(entry.path, { mtime, mode: 0o40755, forceDosTimestamp: true });
    return;
  }
  const options = { mtime, mode: entry.executable ? 0o100755 : 0o100644, forceDosTimestamp: true, compressionLevel: COMPRESSION_LEVEL };
  if (entry.size === 0) {
    zip.addBuffer(Buffer.alloc(0), entry.path, options);
  } else {
    // Lazy: yazl opens each stream only when it reaches the entry, so one file is open at a time.
    zip.addReadStreamLazy(entry.path, { ...options, size: entry.size }, (cb) => cb(null, tree.read(entry)));
  }
}

async function addTarEntry(pack: tar.Pack, entry: TreeEntry, tree: SpooledTree): Promise<void> {
  const common = { mtime: FIXED_MTIME_UTC, uid: 0, gid: 0 };
  if (entry.kind === 'directory') {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ ...common, name: `${entry.path}/`, type: 'directory', mode: 0o755 }, (err) => (err ? reject(err) : resolve()));
    });
    return;
  }
  const header = { ...common, name: entry.path, type: 'file' as const, mode: entry.executable ? 0o755 : 0o644, size: entry.size };
  if (entry.size === 0) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
    return;
  }
  const written = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    const source = tree.read(entry);
    source.on('error', (err) => {
      sink.destroy(err);
      reject(err);
    });
    source.pipe(sink);
  });
  await written;
}

/** Hashes and counts the bytes passing through. */
class DigestStream extends Transform {
  readonly #hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.size += chunk.byteLength;
    callback(null, chunk);
  }

  hex(): string {
    return this.#hash.digest('hex');
  }
}
