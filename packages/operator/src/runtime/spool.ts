/**
 * The operator's spool: where downloads, repacks, scans and provider hashing write their
 * temporary files. Every running operator gets a directory of its own under one root, named by
 * its process id; at start, directories of processes that no longer run (a `kill -9`, an OOM
 * kill, a restarted container whose new process has the same pid) are removed, so a crash never
 * leaves hundreds of megabytes in `/tmp` for good.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@opendepot/sdk';

/** The default spool root: a directory of its own in the OS temp directory (the chart's size-limited emptyDir). */
export function defaultSpoolRoot(): string {
  return join(tmpdir(), 'opendepot-operator-spool');
}

const OWN_DIR = /^(\d+)-[0-9a-f]{8}$/;
/** Spools of operators running in this process (tests run several), never swept. */
const live = new Set<string>();

/** A running operator's spool directory. */
export interface Spool {
  /** The directory to create temporaries in. */
  readonly dir: string;
  /** What the start-up sweep removed (directory names under the root). */
  readonly swept: readonly string[];
  /** Removes the directory and everything in it. */
  close(): Promise<void>;
}

/** Creates this operator's spool under `root`, first removing what dead operators left there. */
export async function openSpool(root: string, logger?: Logger): Promise<Spool> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const swept: string[] = [];
  for (const name of await readdir(root)) {
    const pid = OWN_DIR.exec(name)?.[1];
    if (pid === undefined || live.has(name)) continue;
    // Our own pid with an unknown suffix is an earlier process that had the same pid (a container restart).
    if (Number(pid) === process.pid || !isRunning(Number(pid))) {
      await rm(join(root, name), { recursive: true, force: true });
      swept.push(name);
    }
  }
  if (swept.length > 0) logger?.info('removed the spool directories of operators that no longer run', { root, removed: swept });
  const name = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = join(root, name);
  // recursive: the root again, should the last operator that stopped have just removed it.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  live.add(name);
  return {
    dir,
    swept,
    async close() {
      live.delete(name);
      await rm(dir, { recursive: true, force: true });
      // The root too, when nothing else is in it (no other operator's spool): nothing is left in the temp directory.
      await rmdir(root).catch(() => undefined);
    },
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
