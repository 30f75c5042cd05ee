/**
 * Removes what interrupted or overtaken writes of one key left behind: temporary files of a
 * crashed process, and blobs no pointer names any more. Only files older than a grace period
 * are touched, so a write still in progress never loses its files.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { generatedOwner, isBlobOf, isTmpOf } from './layout.ts';
import { readPointer } from './pointer.ts';

/** How old a leftover must be before it is removed: far longer than any write takes between its steps. */
export const LEFTOVER_GRACE_MS = 60 * 60 * 1000;

/** Removes leftovers of `name` in `dir`, keeping `keepBlob`; returns the names removed. */
export async function sweepLeftovers(dir: string, name: string, keepBlob: string | undefined, now: number, graceMs = LEFTOVER_GRACE_MS): Promise<string[]> {
  const removed: string[] = [];
  for (const file of await readdir(dir)) {
    if (file === keepBlob || !(isBlobOf(name, file) || isTmpOf(name, file))) continue;
    const path = join(dir, file);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || now - info.mtimeMs < graceMs) continue;
    await rm(path, { force: true });
    removed.push(file);
  }
  return removed;
}

/**
 * Removes, under the whole storage `root`, the leftovers of interrupted writes that have not
 * changed for `graceMs`: temporary files and blobs no pointer names (a process killed between
 * its steps). A write in progress keeps touching its files, so it is never swept. Returns the
 * paths removed, relative to `root`.
 */
export async function sweepTree(root: string, now: number, graceMs: number, signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const rel = pending.pop()!;
    const dir = join(root, rel);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile
    }
    const owners = new Set<string>();
    for (const entry of entries) {
      if (entry.isDirectory()) pending.push(join(rel, entry.name));
      else if (entry.isFile()) {
        const owner = generatedOwner(entry.name);
        if (owner !== undefined) owners.add(owner);
      }
    }
    for (const name of owners) {
      // A pointer that cannot be read keeps every blob of its name: never guess which one it meant.
      const current = await readPointer(dir, name).then(
        (p) => ({ blob: p?.blob }),
        () => undefined,
      );
      if (current === undefined) continue;
      for (const file of await sweepLeftovers(dir, name, current.blob, now, graceMs)) removed.push(join(rel, file));
    }
  }
  return removed;
}
