/**
 * Unpacking a stored module archive into a directory, for scanners. The same reader as
 * repacking (limits, safe entry paths, links resolved inside the tree) fills a spooled tree,
 * whose files are then written under the target directory; nothing can land outside it.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveLimits, type ArchiveLimits } from './limits.ts';
import { classifyReadError, readIntoTree, type InputFormat } from './repack.ts';
import type { SpooledTree } from './tree.ts';

/** Options of {@link unpackArchive}. */
export interface UnpackOptions {
  from: InputFormat;
  /** An empty directory to fill; it must exist. */
  dir: string;
  limits?: Partial<ArchiveLimits>;
  signal?: AbortSignal;
  /**
   * Which entries to write (by their normalised relative path); default all. The whole archive is
   * still read and checked (limits, links), only the writing is skipped: a reader that needs a
   * few files does not pay for creating thousands.
   */
  include?: (path: string) => boolean;
}

/** Writes the files and directories of `input` under `options.dir`; returns how many entries. */
export async function unpackArchive(input: AsyncIterable<Uint8Array>, options: UnpackOptions): Promise<number> {
  const limits = resolveLimits(options.limits);
  // Spooled beside `dir` while reading, so the unpacked tree holds nothing but the archive's files.
  const spool = await mkdtemp(`${options.dir}-spool-`);
  let tree: SpooledTree | undefined;
  try {
    tree = await readIntoTree(input, spool, limits, { from: options.from, ...(options.signal && { signal: options.signal }) });
    const entries = tree.finish();
    for (const entry of entries) {
      options.signal?.throwIfAborted();
      if (options.include && !options.include(entry.path)) continue;
      // Entry paths are already normalised, relative and free of `..` (safeEntryPath).
      const target = join(options.dir, entry.path);
      if (entry.kind === 'directory') {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(join(target, '..'), { recursive: true });
      await pipeline(tree.read(entry), createWriteStream(target, { flags: 'wx', mode: 0o600 }), ...(options.signal ? [{ signal: options.signal }] : []));
      if (entry.executable) await chmod(target, 0o700);
    }
    return entries.length;
  } catch (err) {
    // A corrupt stored archive is an InputError, as in repacking, not an untyped failure retried forever.
    throw classifyReadError(err, options);
  } finally {
    await tree?.close().catch(() => undefined);
    await rm(spool, { recursive: true, force: true });
  }
}
