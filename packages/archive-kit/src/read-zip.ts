/** Reads a zip archive (already spooled to a local file) into a {@link SpooledTree}. */
import { Buffer } from 'node:buffer';
import yauzl from 'yauzl';
import { InputError } from '@opendepot/sdk';
import { printable, safeEntryPath, type TopLevelStripper } from './entry-path.ts';
import { formatBytes, type ArchiveLimits } from './limits.ts';
import type { SpooledTree } from './tree.ts';
import { readCheckedEntries } from './zip-layout.ts';

// yauzl exports this, but its type definitions do not declare it.
const getFileNameLowLevel = (
  yauzl as unknown as {
    getFileNameLowLevel(flags: number, raw: Buffer, extraFields: yauzl.ExtraField[], strict: boolean): string;
  }
).getFileNameLowLevel;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;
const MAX_SYMLINK_TARGET = 4096;

/** Reads every entry of the zip file at `zipPath` into `tree`. */
export async function readZip(zipPath: string, tree: SpooledTree, stripper: TopLevelStripper | undefined, limits: ArchiveLimits, signal?: AbortSignal): Promise<void> {
  // decodeStrings off: yauzl would reject unsafe names with its own terse message; ours is clearer.
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  try {
    // Count, overlap and declared size are refused before any entry is inflated; the tree counts real bytes.
    const entries = await readCheckedEntries(zip, { maxEntries: limits.maxEntries, maxUncompressedBytes: limits.maxTotalBytes, refuse: (_limit, message) => new InputError(message) }, signal);
    for (const entry of entries) {
      signal?.throwIfAborted();
      await readEntry(zip, entry, tree, stripper, limits);
    }
  } finally {
    zip.close();
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, tree: SpooledTree, stripper: TopLevelStripper | undefined, limits: ArchiveLimits): Promise<void> {
  // Strict: keep backslashes, so that the path check refuses them rather than yauzl rewriting them.
  const name = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const safe = safeEntryPath(name);
  const path = stripper ? stripper.strip(safe, name) : safe;
  const mode = entry.versionMadeBy >> 8 === MADE_BY_UNIX ? entry.externalFileAttributes >>> 16 : 0;
  const type = mode & S_IFMT;
  if (name.endsWith('/') || type === S_IFDIR) {
    if (path !== '') tree.addDirectory(path);
    return;
  }
  if (path === '') throw new InputError(`archive entry "${printable(name)}" is a file where the module root should be`);
  if (entry.isEncrypted()) throw new InputError(`archive entry "${printable(name)}" is encrypted`);
  if (type === S_IFLNK) {
    tree.addLink('symlink', path, await readSymlinkTarget(zip, entry, name));
    return;
  }
  if (type !== 0 && type !== S_IFREG) {
    tree.warn(`left out "${printable(name)}": special files are not supported`);
    return;
  }
  // The header's size is only an early refusal; the tree counts the bytes that really arrive.
  if (entry.uncompressedSize > limits.maxEntryBytes) {
    throw new InputError(`archive entry "${printable(name)}" is larger than the limit of ${formatBytes(limits.maxEntryBytes)} per file`);
  }
  const stream = await zip.openReadStreamPromise(entry);
  try {
    await tree.addFile(path, mode, stream);
  } finally {
    stream.destroy();
  }
}

async function readSymlinkTarget(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string): Promise<string> {
  if (entry.uncompressedSize > MAX_SYMLINK_TARGET) throw new InputError(`archive entry "${printable(name)}" is a symbolic link with an over-long target`);
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_SYMLINK_TARGET) throw new InputError(`archive entry "${printable(name)}" is a symbolic link with an over-long target`);
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}
