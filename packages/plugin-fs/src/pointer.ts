/** The pointer file: a key's checksum metadata and the name of the blob it describes. */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isBlobOf, newId, pointerName, tmpName } from './layout.ts';

/** What a pointer file holds. */
export interface Pointer {
  /** SHA-256 of the blob's content, lowercase hex. */
  sha256: string;
  /** Size of the blob in bytes. */
  size: number;
  /** When the put completed, ISO 8601. */
  writtenAt: string;
  /** File name of the blob, in the same directory. */
  blob: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Parses a pointer file's text, refusing anything that does not describe a blob of `name`. */
export function parsePointer(text: string, name: string, path: string): Pointer {
  let value: Partial<Record<keyof Pointer, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch (err) {
    throw new Error(`corrupt storage metadata ${path}: not JSON`, { cause: err });
  }
  const { sha256, size, writtenAt, blob } = value ?? {};
  if (
    typeof sha256 !== 'string' ||
    !SHA256_HEX.test(sha256) ||
    typeof size !== 'number' ||
    !Number.isSafeInteger(size) ||
    size < 0 ||
    typeof writtenAt !== 'string' ||
    Number.isNaN(Date.parse(writtenAt)) ||
    typeof blob !== 'string' ||
    !isBlobOf(name, blob)
  ) {
    throw new Error(`corrupt storage metadata ${path}: expected {sha256, size, writtenAt, blob} describing a blob of ${name}`);
  }
  return { sha256, size, writtenAt, blob };
}

/** Reads the pointer of `name` in `dir`; `undefined` when there is none. */
export async function readPointer(dir: string, name: string): Promise<Pointer | undefined> {
  const path = join(dir, pointerName(name));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // ENOTDIR: a directory of the key is a file; EISDIR: the pointer's name is a directory.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
  return parsePointer(text, name, path);
}

/**
 * Replaces the pointer of `name` atomically: written to a temporary file, flushed to disk,
 * then renamed over the old one, so readers see the old pointer or the new one, whole.
 */
export async function writePointer(dir: string, name: string, pointer: Pointer): Promise<void> {
  const tmp = join(dir, tmpName(name, newId()));
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(pointer, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(dir, pointerName(name)));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
