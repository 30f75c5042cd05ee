/** What the conformance suite cannot see from outside: the files on disk. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isOpenDepotError } from '@opendepot/sdk';
import { chunked, collectBytes, MiB, pseudoRandomBytes, pseudoRandomChunks } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FilesystemStorage } from '../src/index.ts';
import { TempDirs } from './context.ts';

const dirs = new TempDirs();
test.after.each(() => dirs.removeAll());

async function storage(): Promise<FilesystemStorage> {
  return new FilesystemStorage({ path: join(await dirs.make(), 'root') }).init();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.unreachable('expected a rejection');
}

/** Every file under `dir`, as paths relative to it. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** Waits until `dir` holds exactly `files` (clean-up after an abort may finish just after the rejection). */
async function eventually(dir: string, files: string[]): Promise<void> {
  for (let i = 0; i < 100 && JSON.stringify(await tree(dir)) !== JSON.stringify(files); i++) await sleep(10);
  assert.equal(await tree(dir), files);
}

test('the checksum metadata sits beside the content, and names it', async () => {
  const s = await storage();
  const bytes = await pseudoRandomBytes(MiB + 3, { seed: 1 });
  const info = await s.put('modules/ns/vpc/aws/1.0.0.zip', chunked(bytes));
  const files = await tree(s.root);
  assert.is(files.length, 2, files.join(', '));
  const meta = files.find((f) => !f.endsWith('.blob'))!;
  const blob = files.find((f) => f.endsWith('.blob'))!;
  assert.is(meta, 'modules/ns/vpc/aws/1.0.0.zip.sha256.json');
  assert.match(blob, /^modules\/ns\/vpc\/aws\/1\.0\.0\.zip\.[0-9a-f]{16}\.blob$/);

  const pointer = JSON.parse(await readFile(join(s.root, meta), 'utf8'));
  assert.equal(Object.keys(pointer).sort(), ['blob', 'sha256', 'size', 'writtenAt']);
  assert.is(pointer.sha256, sha256(bytes));
  assert.is(pointer.sha256, info.sha256);
  assert.is(pointer.size, bytes.byteLength);
  assert.is(new Date(pointer.writtenAt).getTime(), info.modifiedAt!.getTime());
  assert.is(`modules/ns/vpc/aws/${pointer.blob}`, blob);
  assert.ok((await readFile(join(s.root, blob))).equals(bytes));
});

test('an overwrite leaves one blob, and a delete leaves nothing', async () => {
  const s = await storage();
  for (const text of ['one', 'two', 'three']) await s.put('k', chunked(Buffer.from(text)));
  const files = await tree(s.root);
  assert.is(files.length, 2, files.join(', '));
  assert.is((await readFile(join(s.root, files.find((f) => f.endsWith('.blob'))!))).toString(), 'three');
  await s.delete('k');
  assert.equal(await tree(s.root), []);
});

test('keys cannot reach outside the storage directory', async () => {
  const s = await storage();
  const parent = join(s.root, '..');
  const before = await tree(parent);
  const bad = [
    '../escape',
    'a/../../escape',
    '/etc/passwd',
    '..',
    '.',
    'a/./b',
    'a//b',
    'a/',
    'a\\..\\..\\escape',
    'a\0b',
    'x.sha256.json',
    'X.SHA256.JSON',
    'dir.sha256.json/x',
    'x.0123456789ABCDEF.blob',
    'x.0123456789abcdef.blob',
    'x.0123456789abcdef.tmp',
    'n'.repeat(240),
    'x'.repeat(1025),
  ];
  for (const key of bad) {
    for (const op of [() => s.put(key, chunked(Buffer.from('x'))), () => s.get(key), () => s.stat(key), () => s.delete(key)]) {
      const err = await rejection(op());
      assert.ok(isOpenDepotError(err, 'input'), `${JSON.stringify(key)}: ${String(err)}`);
    }
  }
  assert.equal(await tree(parent), before, 'nothing was written anywhere');
});

test('an aborted put leaves no temporary file behind, whether the body flows or stalls', async () => {
  const s = await storage();
  await s.put('keep', chunked(Buffer.from('kept')));
  const clean = await tree(s.root);
  for (const stall of [false, true]) {
    const controller = new AbortController();
    let release = () => {};
    async function* body() {
      let n = 0;
      for await (const chunk of pseudoRandomChunks(64 * MiB, { chunkBytes: 256 * 1024 })) {
        yield chunk;
        if (++n === 8) {
          setImmediate(() => controller.abort());
          if (stall) await new Promise<void>((r) => (release = r));
        }
        await sleep(0);
      }
    }
    const err = await rejection(s.put('aborted/object', body(), { signal: controller.signal }));
    release();
    assert.is((err as Error).name, 'AbortError');
    await eventually(s.root, clean);
  }
});

test('a refused checksum, a failing body or an error mid-way leave no files behind', async () => {
  const s = await storage();
  await s.put('k', chunked(Buffer.from('old')));
  const clean = await tree(s.root);

  const mismatch = await rejection(s.put('k', chunked(Buffer.from('new')), { sha256: 'ab'.repeat(32) }));
  assert.ok(isOpenDepotError(mismatch, 'integrity'), String(mismatch));
  assert.equal(await tree(s.root), clean);

  const broken = new Error('upstream connection reset');
  async function* failing() {
    yield Buffer.from('partial');
    throw broken;
  }
  assert.is(await rejection(s.put('k', failing())), broken);
  assert.is(await rejection(s.put('other/k', failing())), broken);
  assert.equal(await tree(s.root), clean);

  async function* notBytes() {
    yield 'a string' as unknown as Uint8Array;
  }
  assert.ok(isOpenDepotError(await rejection(s.put('k', notBytes())), 'input'));
  assert.equal(await tree(s.root), clean);
  assert.is((await collectBytes((await s.get('k')).body)).toString(), 'old');
});

test('stat reads the metadata only: it neither reads nor needs the content', async () => {
  const s = await storage();
  const info = await s.put('k', chunked(Buffer.from('original')));
  const blob = (await tree(s.root)).find((f) => f.endsWith('.blob'))!;
  // Tamper with the content behind the storage's back: stat still reports what was recorded.
  await writeFile(join(s.root, blob), 'tampered');
  assert.equal(await s.stat('k'), info);
  await rm(join(s.root, blob));
  assert.equal(await s.stat('k'), info);
  // get needs the content, and says so when the metadata points at nothing.
  assert.ok(isOpenDepotError(await rejection(s.get('k')), 'not_found'));
});

test('a reader that opened an object keeps reading it whole while it is replaced and deleted', async () => {
  const s = await storage();
  const old = await pseudoRandomBytes(4 * MiB, { seed: 2 });
  await s.put('k', chunked(old));
  const reading = await s.get('k');
  await s.put('k', chunked(Buffer.from('new')));
  await s.delete('k');
  assert.ok((await collectBytes(reading.body)).equals(old));
  assert.equal(await tree(s.root), []);
});

test('leftovers of crashed writes are swept by the next put of their key, once old enough', async () => {
  const s = await storage();
  await s.put('dir/k', chunked(Buffer.from('v1')));
  await s.put('dir/other', chunked(Buffer.from('other')));
  const dir = join(s.root, 'dir');
  const stale = ['k.00000000000000aa.tmp', 'k.00000000000000bb.blob'];
  const fresh = ['k.00000000000000cc.tmp', 'other.00000000000000dd.tmp'];
  for (const f of [...stale, ...fresh]) await writeFile(join(dir, f), 'leftover');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  for (const f of [...stale, 'other.00000000000000dd.tmp']) await utimes(join(dir, f), twoHoursAgo, twoHoursAgo);

  await s.put('dir/k', chunked(Buffer.from('v2')));
  const left = await readdir(dir);
  for (const f of stale) assert.not.ok(left.includes(f), `${f} should be swept`);
  for (const f of fresh) assert.ok(left.includes(f), `${f} should be kept (too young, or another key's)`);
  assert.is((await collectBytes((await s.get('dir/k')).body)).toString(), 'v2');
  assert.is((await collectBytes((await s.get('dir/other')).body)).toString(), 'other');
});

test('a key and keys below it coexist', async () => {
  const s = await storage();
  await s.put('a', chunked(Buffer.from('file')));
  await s.put('a/b', chunked(Buffer.from('below')));
  assert.is((await collectBytes((await s.get('a')).body)).toString(), 'file');
  assert.is((await collectBytes((await s.get('a/b')).body)).toString(), 'below');
});

test('two instances on the same directory (operator and server) see each other', async () => {
  const root = join(await dirs.make(), 'shared');
  const operator = await new FilesystemStorage({ path: root }).init();
  const server = await new FilesystemStorage({ path: root }).init();
  const info = await operator.put('providers/x.zip', chunked(Buffer.from('zip')));
  assert.equal(await server.stat('providers/x.zip'), info);
  await server.delete('providers/x.zip');
  assert.ok(isOpenDepotError(await rejection(operator.stat('providers/x.zip')), 'not_found'));
});

test('an uppercase expected sha256 is accepted; a malformed one or a bad range is an input error', async () => {
  const s = await storage();
  const bytes = Buffer.from('content');
  await s.put('k', chunked(bytes), { sha256: sha256(bytes).toUpperCase() });
  assert.ok(isOpenDepotError(await rejection(s.put('k', chunked(bytes), { sha256: 'abc' })), 'input'));
  for (const range of [{ start: -1 }, { start: 1.5 }, { start: 5, end: 4 }, { start: 0, end: Number.NaN }]) {
    assert.ok(isOpenDepotError(await rejection(s.get('k', { range })), 'input'), JSON.stringify(range));
  }
  // A range starting past the end is empty, as a file read would be.
  assert.is((await collectBytes((await s.get('k', { range: { start: 100 } })).body)).byteLength, 0);
});

test('the constructor refuses a relative path; init refuses a path that is a file', async () => {
  assert.ok(isOpenDepotError(await rejection(Promise.resolve().then(() => new FilesystemStorage({ path: 'relative/dir' }))), 'input'));
  const file = join(await dirs.make(), 'file');
  await writeFile(file, '');
  await rejection(new FilesystemStorage({ path: file }).init());
  const nested = join(await dirs.make(), 'a', 'b', 'c');
  await new FilesystemStorage({ path: nested }).init();
  assert.ok((await stat(nested)).isDirectory(), 'init creates a missing directory');
});

test("on a read-only mount (the server's view of the shared volume) it serves what is stored, and writes fail", async () => {
  // A read-only bind mount, as the kubelet makes for a volumeMount with readOnly: true. Needs root, as the test suite runs.
  const writable = await storage();
  const bytes = await pseudoRandomBytes(4096, { seed: 7 });
  await writable.put('modules/ns/a/1.0.0.zip', chunked(bytes), { sha256: sha256(bytes) });
  const mountPoint = await dirs.make();
  const run = promisify(execFile);
  await run('mount', ['--bind', '-o', 'ro', writable.root, mountPoint]);
  try {
    await run('mount', ['-o', 'remount,ro,bind', mountPoint]);
    const readOnly = await new FilesystemStorage({ path: mountPoint }).init();
    assert.ok(readOnly.readOnly);
    const { body, info } = await readOnly.get('modules/ns/a/1.0.0.zip');
    assert.is(info.sha256, sha256(bytes));
    assert.is(sha256(await collectBytes(body)), sha256(bytes));
    const err = await rejection(readOnly.put('modules/ns/a/2.0.0.zip', chunked(bytes)));
    assert.match(String((err as Error).message), /read-only|EROFS/);
    assert.not.ok((await new FilesystemStorage({ path: writable.root }).init()).readOnly, 'a writable directory is not read-only');
  } finally {
    await run('umount', [mountPoint]);
  }
});

test.run();
