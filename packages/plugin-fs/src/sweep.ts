/**
 * Removes what interrupted or overtaken writes of one key left behind: temporary files of a
 * crashed process, and blobs no pointer names any more. Only files older than a grace period
 * are touched, so a write still in progress never loses its files.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isBlobOf, isTmpOf } from './layout.ts';

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
