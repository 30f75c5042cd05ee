/** The start-up sweep: leftovers of interrupted writes anywhere under the root, and nothing else. */
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FilesystemStorage } from '../src/index.ts';
import { TempDirs } from './context.ts';

const dirs = new TempDirs();
test.after.each(() => dirs.removeAll());

async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const body = (text: string) =>
  (async function* () {
    yield Buffer.from(text);
  })();
const HOUR_AGO = new Date(Date.now() - 60 * 60 * 1000);

test('sweepTemporaries removes old temporary files and unnamed blobs in every directory, keeps live objects and fresh temporaries', async () => {
  const root = join(await dirs.make(), 'root');
  const storage = await new FilesystemStorage({ path: root }).init();
  await storage.put('modules/team-a/vpc/aws/1.0.0/vpc-aws-1.0.0.zip', body('kept'));
  await storage.put('providers/team-b/hello/1.0.0/p.zip', body('kept too'));
  const kept = await tree(root);
  // What a process killed mid-put leaves: a temporary file, and a blob no pointer names (killed before the pointer).
  const stale = [
    'modules/team-a/vpc/aws/1.0.0/vpc-aws-1.0.0.zip.0123456789abcdef.tmp',
    'modules/team-a/vpc/aws/1.0.0/vpc-aws-1.0.0.zip.fedcba9876543210.blob',
    'providers/team-b/hello/1.0.0/other.zip.00000000000000aa.tmp',
  ];
  for (const file of stale) {
    await writeFile(join(root, file), 'partial');
    await utimes(join(root, file), HOUR_AGO, HOUR_AGO);
  }
  // A put still streaming: touched just now.
  const fresh = 'providers/team-b/hello/1.0.0/p.zip.00000000000000bb.tmp';
  await writeFile(join(root, fresh), 'still being written');
  // Files the layout never generates are not ours to remove.
  const foreign = 'modules/notes.tmp';
  await writeFile(join(root, foreign), 'x');
  await utimes(join(root, foreign), HOUR_AGO, HOUR_AGO);

  const { removed } = await storage.sweepTemporaries({ olderThanMs: 60_000 });
  assert.equal(removed.sort(), [...stale].sort());
  assert.equal(await tree(root), [...kept, fresh, foreign].sort());
  assert.equal(await storage.sweepTemporaries({ olderThanMs: 60_000 }), { removed: [] }, 'nothing left to sweep');
  // Without a grace period (the only writer, at start) the fresh one goes too.
  assert.equal((await storage.sweepTemporaries({ olderThanMs: 0 })).removed, [fresh]);
  assert.is((await storage.stat('modules/team-a/vpc/aws/1.0.0/vpc-aws-1.0.0.zip')).size, 4);
});

test('an unreadable pointer keeps every blob of its name', async () => {
  const root = join(await dirs.make(), 'root');
  const storage = await new FilesystemStorage({ path: root }).init();
  await storage.put('a/b.zip', body('content'));
  await writeFile(join(root, 'a/b.zip.sha256.json'), '{ not json');
  const blob = join(root, 'a/b.zip.1111111111111111.blob');
  await writeFile(blob, 'maybe the named one');
  await utimes(blob, HOUR_AGO, HOUR_AGO);
  assert.equal((await storage.sweepTemporaries({ olderThanMs: 0 })).removed, []);
});

test.run();
