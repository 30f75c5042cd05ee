/**
 * A killed operator leaves no temporaries for good (issue 10 §3): its spool directories are
 * removed when the next one starts, and storage temporaries by the storage sweep at start. The
 * kill is a real `kill -9` of a child process in the middle of a 100 MiB put and spool.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSpool } from '../src/runtime/index.ts';

const WRITER = fileURLToPath(new URL('./interrupted-writer.ts', import.meta.url));
const MiB = 1024 * 1024;

let work: string;
test.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'opendepot-interrupted-'));
});
test.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every file under `dir` with its size, relative paths. */
async function files(dir: string): Promise<{ path: string; size: number }[]> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return Promise.all(entries.map(async (e) => ({ path: join(e.parentPath, e.name).slice(dir.length + 1), size: (await stat(join(e.parentPath, e.name))).size })));
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await once(child, 'exit');
  return child.pid!;
}

test('at start the spool removes directories of processes that no longer run, and of an earlier process with our pid; live ones stay', async () => {
  const root = join(work, 'spool');
  const dead = `${await deadPid()}-0000000a`;
  const earlier = `${process.pid}-0000000b`;
  const alive = `${process.ppid}-0000000c`;
  for (const name of [dead, earlier, alive, 'not-a-spool']) await mkdir(join(root, name, 'opendepot-fetch-x'), { recursive: true });
  const other = await openSpool(root);
  const spool = await openSpool(root);
  assert.equal(spool.swept, [], 'the first one swept already');
  assert.equal([...other.swept].sort(), [dead, earlier].sort());
  const left = (await readdir(root)).sort();
  assert.equal(left, [alive, 'not-a-spool', other.dir.slice(root.length + 1), spool.dir.slice(root.length + 1)].sort(), 'a spool of this process that still runs is kept');
  await spool.close();
  await other.close();
  assert.equal((await readdir(root)).sort(), [alive, 'not-a-spool']);
});

test('kill -9 in the middle of a 100 MiB put and spool: after a restart no temporary remains in storage or in the spool', async () => {
  const storageRoot = join(work, 'storage');
  const spoolRoot = join(work, 'spool');
  const child = spawn(process.execPath, [...process.execArgv, WRITER, storageRoot, spoolRoot, '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    // Killed once both writes are well under way (and far from done).
    const deadline = Date.now() + 60_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'the writes never got under way');
      assert.is(child.exitCode, null, 'the writer exited early');
      const inStorage = await files(storageRoot).catch(() => []);
      const inSpool = await files(spoolRoot).catch(() => []);
      if (inStorage.some((f) => f.path.endsWith('.tmp') && f.size >= 8 * MiB) && inSpool.some((f) => f.size >= 8 * MiB)) break;
      await sleep(100);
    }
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => undefined);
  }
  assert.is(child.signalCode, 'SIGKILL');
  const leftInStorage = (await files(storageRoot)).filter((f) => !f.path.endsWith('.sha256.json'));
  const leftInSpool = await files(spoolRoot);
  assert.ok(
    leftInStorage.some((f) => f.path.endsWith('.tmp')),
    'the kill left a storage temporary',
  );
  assert.ok(leftInSpool.length > 0, 'the kill left a spool file');
  console.log(`left by kill -9: storage ${JSON.stringify(leftInStorage)}, spool ${JSON.stringify(leftInSpool)}`);

  // The restart, as the operator starts: its spool first, then the storage sweep (no other writer).
  const spool = await openSpool(spoolRoot);
  const storage = await new FilesystemStorage({ path: storageRoot }).init();
  const { removed } = await storage.sweepTemporaries({ olderThanMs: 0 });
  assert.ok(removed.length > 0);
  assert.equal(await files(storageRoot), [], 'no temporary (and no object) left in storage');
  assert.equal(await readdir(spoolRoot), [spool.dir.slice(spoolRoot.length + 1)], 'only the new, empty spool directory');
  assert.equal(await readdir(spool.dir), []);
  await spool.close();
});

test.run();
