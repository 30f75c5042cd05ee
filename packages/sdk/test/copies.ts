/**
 * Loads a second, independent copy of SDK modules, as when a plugin bundles its own
 * `@opendepot/sdk`: the files are copied elsewhere so Node evaluates them again.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const src = new URL('../src/', import.meta.url);

/** Imports a fresh copy of `src/<file>` (which must import nothing at run time). */
export async function importCopy<T>(file: string): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-sdk-copy-'));
  try {
    await copyFile(new URL(file, src), join(dir, file));
    return (await import(pathToFileURL(join(dir, file)).href)) as T;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
