/** Builders and readers of tar/zip archives for the archive and source tests. */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import yazl from 'yazl';

/** An entry to put into a test archive. */
export interface TestEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
}

/** What a test reads back out of an archive. */
export interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  mtime: Date;
  content?: string;
}

/** A tar (not gzipped) of `entries`, in the given order. */
export async function tarOf(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o775 : 0o664), mtime: new Date('2024-05-06T07:08:09Z'), linkname: e.linkname };
    if (type === 'file') pack.entry(header, e.content ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  return collect(pack as unknown as AsyncIterable<Uint8Array>);
}

/** A gzipped tar of `entries`. */
export async function tarGzOf(entries: TestEntry[]): Promise<Buffer> {
  return gzipSync(await tarOf(entries));
}

/** A zip of `entries` (files, directories and symlinks), names checked by yazl. */
export async function zipOf(entries: TestEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date('2024-05-06T07:08:09Z');
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'directory') zip.addEmptyDirectory(e.name, { mtime });
    else if (type === 'symlink') zip.addBuffer(Buffer.from(e.linkname ?? ''), e.name, { mtime, mode: 0o120777 });
    else zip.addBuffer(Buffer.from(e.content ?? ''), e.name, { mtime, mode: 0o100000 | (e.mode ?? 0o664) });
  }
  zip.end();
  return collect(zip.outputStream as unknown as AsyncIterable<Uint8Array>);
}

/** Replaces every occurrence of `from` by `to` (same length) in the bytes: how to forge names yazl refuses. */
export function patchBytes(buffer: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('patch must keep the length');
  const out = Buffer.from(buffer);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  if (at === -1) throw new Error(`"${from}" not found`);
  while (at !== -1) {
    out.write(to, at, 'latin1');
    at = out.indexOf(needle, at + 1);
  }
  return out;
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The entries of a tar.gz, in archive order. */
export async function readTarGz(bytes: Buffer): Promise<ReadEntry[]> {
  const extract = tar.extract();
  Readable.from([gunzipSync(bytes)]).pipe(extract);
  const out: ReadEntry[] = [];
  for await (const entry of extract) {
    const content = (await collect(entry as AsyncIterable<Uint8Array>)).toString('utf8');
    out.push({
      name: entry.header.name,
      type: entry.header.type ?? 'file',
      mode: entry.header.mode ?? 0,
      mtime: entry.header.mtime ?? new Date(0),
      ...(entry.header.type === 'file' ? { content } : {}),
    });
  }
  return out;
}

/** The entries of a zip, in archive order (mode is the unix mode of the external attributes). */
export async function readZip(bytes: Buffer): Promise<ReadEntry[]> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const out: ReadEntry[] = [];
  for await (const entry of zip.eachEntry()) {
    const isDir = entry.fileName.endsWith('/');
    const content = isDir ? undefined : (await collect(await zip.openReadStreamPromise(entry))).toString('utf8');
    out.push({
      name: entry.fileName,
      type: isDir ? 'directory' : 'file',
      mode: entry.externalFileAttributes >>> 16,
      mtime: entry.getLastModDate({ timezone: 'UTC' }),
      ...(content === undefined ? {} : { content }),
    });
  }
  return out;
}

/** Path → content of the files of an archive read back. */
export function filesOf(entries: ReadEntry[]): Record<string, string> {
  return Object.fromEntries(entries.filter((e) => e.type === 'file').map((e) => [e.name, e.content ?? '']));
}
