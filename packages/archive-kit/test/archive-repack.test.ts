import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError } from '@opendepot/sdk';
import { repackArchive, type RepackOptions } from '../src/index.ts';
import { collect, filesOf, patchBytes, readTarGz, readZip, sha256, tarGzOf, tarOf, zipOf, type TestEntry } from '@opendepot/testbed/archive-helpers';

const TOP = 'acme-terraform-aws-vpc-1a2b3c4';
const tree: TestEntry[] = [
  { name: `${TOP}/`, type: 'directory' },
  { name: `${TOP}/variables.tf`, content: 'variable "name" {}\n' },
  { name: `${TOP}/main.tf`, content: 'resource "null_resource" "x" {}\n' },
  { name: `${TOP}/modules/`, type: 'directory' },
  { name: `${TOP}/modules/sub/`, type: 'directory' },
  { name: `${TOP}/modules/sub/main.tf`, content: 'output "y" { value = 1 }\n' },
  { name: `${TOP}/scripts/`, type: 'directory' },
  { name: `${TOP}/scripts/run.sh`, content: '#!/bin/sh\necho hi\n', mode: 0o775 },
  { name: `${TOP}/empty.txt`, content: '' },
];
const expectedFiles = {
  'empty.txt': '',
  'main.tf': 'resource "null_resource" "x" {}\n',
  'modules/sub/main.tf': 'output "y" { value = 1 }\n',
  'scripts/run.sh': '#!/bin/sh\necho hi\n',
  'variables.tf': 'variable "name" {}\n',
};

let scratch = '';
test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-archive-test-'));
});
test.after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function repack(bytes: Buffer, options: RepackOptions) {
  const result = await repackArchive(Readable.from([bytes]), { tmpDir: scratch, ...options });
  const out = await collect(result.body);
  return { ...result, bytes: out };
}

async function refused(bytes: Buffer | AsyncIterable<Uint8Array>, options: RepackOptions): Promise<Error & { code?: string }> {
  try {
    const input = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
    const result = await repackArchive(input, { tmpDir: scratch, ...options });
    result.body.destroy();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the archive to be refused');
}

test('a GitHub tarball becomes a zip with the module at its root, fixed times and normalised modes', async () => {
  const out = await repack(await tarGzOf(tree), { from: 'tar.gz', to: 'zip', stripTopLevelDir: true });
  const entries = await readZip(out.bytes);
  assert.equal(filesOf(entries), expectedFiles);
  assert.equal(
    entries.map((e) => e.name),
    ['empty.txt', 'main.tf', 'modules/', 'modules/sub/', 'modules/sub/main.tf', 'scripts/', 'scripts/run.sh', 'variables.tf'],
  );
  const modes = Object.fromEntries(entries.map((e) => [e.name, e.mode]));
  assert.is(modes['scripts/run.sh'], 0o100755);
  assert.is(modes['main.tf'], 0o100644);
  assert.is(modes['modules/'], 0o40755);
  for (const e of entries) assert.is(e.mtime.getUTCFullYear(), 1980, e.name);
  assert.is(out.size, out.bytes.length);
  assert.is(out.sha256, sha256(out.bytes));
  assert.is(out.entries, 8);
});

test('a GitHub zipball becomes a tar.gz with the module at its root, owner 0 and the 1980 timestamp', async () => {
  const out = await repack(await zipOf(tree), { from: 'zip', to: 'tar.gz', stripTopLevelDir: true });
  const entries = await readTarGz(out.bytes);
  assert.equal(filesOf(entries), expectedFiles);
  const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
  assert.is(byName['scripts/run.sh']?.mode, 0o755);
  assert.is(byName['variables.tf']?.mode, 0o644);
  assert.is(byName['modules/']?.type, 'directory');
  for (const e of entries) assert.is(e.mtime.getTime(), Date.UTC(1980, 0, 1), e.name);
  assert.ok(
    entries.every((e) => !e.name.startsWith(TOP)),
    'top-level directory stripped',
  );
});

test('a plain tar (git archive) is repacked without stripping anything', async () => {
  const plain = tree.filter((e) => e.name !== `${TOP}/`).map((e) => ({ ...e, name: e.name.slice(TOP.length + 1) }));
  const out = await repack(await tarOf(plain), { from: 'tar', to: 'tar.gz' });
  assert.equal(filesOf(await readTarGz(out.bytes)), expectedFiles);
});

test('the same tree always gives byte-identical output, whatever the input format and entry order', async () => {
  const shuffled = [...tree].reverse();
  for (const to of ['zip', 'tar.gz'] as const) {
    const a = await repack(await tarGzOf(tree), { from: 'tar.gz', to, stripTopLevelDir: true });
    const b = await repack(await tarGzOf(tree), { from: 'tar.gz', to, stripTopLevelDir: true });
    const c = await repack(await zipOf(shuffled), { from: 'zip', to, stripTopLevelDir: true });
    const read = to === 'zip' ? readZip : readTarGz;
    assert.equal(filesOf(await read(a.bytes)), expectedFiles, `${to}: contents`);
    assert.is(a.sha256, b.sha256, `${to}: same input twice`);
    assert.is(a.sha256, c.sha256, `${to}: zip input in another order`);
    assert.ok(a.bytes.equals(c.bytes));
  }
});

test('the output does not depend on the time zone', async () => {
  const input = await tarGzOf(tree);
  const here = await repack(input, { from: 'tar.gz', to: 'zip', stripTopLevelDir: true });
  const previous = process.env.TZ;
  try {
    process.env.TZ = 'America/Los_Angeles';
    const there = await repack(input, { from: 'tar.gz', to: 'zip', stripTopLevelDir: true });
    assert.is(there.sha256, here.sha256);
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
});

test('path traversal, absolute paths, drive letters and backslashes are refused with a clear InputError', async () => {
  const cases: Array<[string, RegExp]> = [
    ['../evil.tf', /"\.\."/],
    ['/etc/passwd', /absolute path/],
    ['C:/windows/evil.tf', /drive letter/],
    ['a\\..\\..\\evil.tf', /backslash/],
    ['ok/../../evil.tf', /"\.\."/],
  ];
  for (const [name, why] of cases) {
    const err = await refused(
      await tarGzOf([
        { name: 'main.tf', content: 'x' },
        { name, content: 'evil' },
      ]),
      { from: 'tar.gz', to: 'zip' },
    );
    assert.ok(isOpenDepotError(err, 'input'), `${name}: ${err.message}`);
    assert.match(err.message, why, name);
    assert.match(err.message, /archive entry/);
  }
});

test('traversal names forged into a zip are refused too', async () => {
  const forged = patchBytes(await zipOf([{ name: 'top/xx/yy/evil.tf', content: 'evil' }]), 'top/xx/yy/', 'top/../../');
  const err = await refused(forged, { from: 'zip', to: 'tar.gz', stripTopLevelDir: true });
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.match(err.message, /"\.\." segment/);
  const backslash = patchBytes(await zipOf([{ name: 'top/a_b.tf', content: 'x' }]), 'a_b', 'a\\b');
  const err2 = await refused(backslash, { from: 'zip', to: 'zip', stripTopLevelDir: true });
  assert.match(err2.message, /backslash/);
});

test('an entry outside the shared top-level directory is refused when stripping', async () => {
  const err = await refused(
    await tarGzOf([
      { name: 'top/', type: 'directory' },
      { name: 'top/main.tf', content: 'x' },
      { name: 'other/main.tf', content: 'y' },
    ]),
    {
      from: 'tar.gz',
      to: 'zip',
      stripTopLevelDir: true,
    },
  );
  assert.ok(isOpenDepotError(err, 'input'));
  assert.match(err.message, /outside the top-level directory "top\/"/);
});

test('links inside the module become copies; links pointing outside are left out with a warning', async () => {
  const input = await tarGzOf([
    { name: 'top/main.tf', content: 'main' },
    { name: 'top/docs/', type: 'directory' },
    { name: 'top/docs/readme.md', type: 'symlink', linkname: '../main.tf' },
    { name: 'top/hard.tf', type: 'link', linkname: 'top/main.tf' },
    { name: 'top/passwd', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'top/up', type: 'symlink', linkname: '../../../etc/shadow' },
    { name: 'top/dirlink', type: 'symlink', linkname: 'docs' },
    { name: 'top/escape', type: 'link', linkname: '../outside' },
    { name: 'top/pipe', type: 'fifo' },
  ]);
  const out = await repack(input, { from: 'tar.gz', to: 'tar.gz', stripTopLevelDir: true });
  const entries = await readTarGz(out.bytes);
  assert.equal(filesOf(entries), { 'docs/readme.md': 'main', 'hard.tf': 'main', 'main.tf': 'main' });
  assert.ok(
    entries.every((e) => e.type === 'file' || e.type === 'directory'),
    'no links in the output',
  );
  const warnings = out.warnings.join('\n');
  for (const name of ['passwd', 'up', 'dirlink', 'escape', 'pipe']) assert.match(warnings, new RegExp(`"${name}"`), name);
});

test('symlinks in a zip are resolved the same way', async () => {
  const input = await zipOf([
    { name: 'top/main.tf', content: 'main' },
    { name: 'top/alias.tf', type: 'symlink', linkname: 'main.tf' },
    { name: 'top/evil', type: 'symlink', linkname: '../../etc/passwd' },
  ]);
  const out = await repack(input, { from: 'zip', to: 'zip', stripTopLevelDir: true });
  assert.equal(filesOf(await readZip(out.bytes)), { 'alias.tf': 'main', 'main.tf': 'main' });
  assert.match(out.warnings.join('\n'), /"evil": it points outside/);
});

test('duplicate entries and files used as directories are refused', async () => {
  const dup = await refused(
    await tarGzOf([
      { name: 'main.tf', content: 'a' },
      { name: 'main.tf', content: 'b' },
    ]),
    { from: 'tar.gz', to: 'zip' },
  );
  assert.match(dup.message, /"main.tf" appears more than once/);
  const clash = await refused(
    await tarGzOf([
      { name: 'a', content: 'a' },
      { name: 'a/b.tf', content: 'b' },
    ]),
    { from: 'tar.gz', to: 'zip' },
  );
  assert.match(clash.message, /inside "a", which is a file/);
});

/**
 * Peak of live heap + buffers while `fn` runs, minus the level before it. The sampler collects
 * garbage first, so what it sees is memory actually held, not garbage waiting for the collector.
 */
async function peakGrowth(fn: () => Promise<unknown>): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, used())), 25);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, used()) - base;
}

/** A tar.gz whose one file is `size` zero bytes, generated as a stream (never held in memory). */
function zeroTarGz(size: number, name = 'big.bin'): Readable {
  const pack = tar.pack();
  const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
  // The consumer stops reading early when it refuses the archive; that is expected here.
  entry.on('error', () => undefined);
  pack.on('error', () => undefined);
  const chunk = Buffer.alloc(1024 * 1024);
  (async () => {
    for (let left = size; left > 0; left -= chunk.length) {
      if (!entry.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise<void>((r) => entry.once('drain', () => r()));
    }
    entry.end(undefined);
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return (pack as unknown as Readable).pipe(createGzip({ level: 1 }));
}

test('a tar.gz bomb is refused by counting bytes, without using much memory', async () => {
  let err: Error | undefined;
  const growth = await peakGrowth(async () => {
    err = await refused(zeroTarGz(256 * 1024 * 1024), { from: 'tar.gz', to: 'zip', limits: { maxTotalBytes: 8 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024 } });
  });
  assert.ok(err && isOpenDepotError(err, 'input'), err?.message);
  assert.match(err?.message ?? '', /"big.bin" is larger than the limit of 4 MiB per file/);
  assert.ok(growth < 24 * 1024 * 1024, `memory grew by ${(growth / 1048576).toFixed(1)} MiB`);
});

test('the total size limit counts every file', async () => {
  const entries = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.bin`, content: Buffer.alloc(300 * 1024, 1) }));
  const err = await refused(await tarGzOf(entries), { from: 'tar.gz', to: 'zip', limits: { maxTotalBytes: 1024 * 1024 } });
  assert.match(err.message, /unpacks to more than 1 MiB, the limit/);
  const count = await refused(await tarGzOf(entries), { from: 'tar.gz', to: 'zip', limits: { maxEntries: 3 } });
  assert.match(count.message, /more than 3 entries/);
});

test('a zip bomb is refused by counting bytes, without using much memory', async () => {
  // 64 MiB of zeros deflate to about 64 KiB.
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.alloc(64 * 1024 * 1024), 'top/bomb.bin', { compressionLevel: 9 });
  zip.end();
  const bytes = await collect(zip.outputStream as unknown as AsyncIterable<Uint8Array>);
  assert.ok(bytes.length < 1024 * 1024);
  let err: Error | undefined;
  const growth = await peakGrowth(async () => {
    err = await refused(bytes, { from: 'zip', to: 'zip', stripTopLevelDir: true, limits: { maxEntryBytes: 2 * 1024 * 1024 } });
  });
  assert.ok(err && isOpenDepotError(err, 'input'), err?.message);
  assert.match(err?.message ?? '', /larger than the limit of 2 MiB per file/);
  assert.ok(growth < 24 * 1024 * 1024, `memory grew by ${(growth / 1048576).toFixed(1)} MiB`);
});

test('a zip whose headers understate the size is still refused', async () => {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.alloc(4 * 1024 * 1024, 7), 'top/liar.bin', { compressionLevel: 9 });
  zip.end();
  const honest = await collect(zip.outputStream as unknown as AsyncIterable<Uint8Array>);
  // Rewrite the declared uncompressed size (4 MiB = 00 00 40 00 little-endian) to 16 bytes, everywhere.
  const declared = Buffer.from([0x00, 0x00, 0x40, 0x00]);
  const lying = Buffer.from(honest);
  for (let at = lying.indexOf(declared); at !== -1; at = lying.indexOf(declared, at + 1)) lying.writeUInt32LE(16, at);
  const err = await refused(lying, { from: 'zip', to: 'zip', stripTopLevelDir: true, limits: { maxEntryBytes: 1024 * 1024 } });
  assert.ok(isOpenDepotError(err, 'input'), err.message);
});

test('the compressed input is capped too', async () => {
  const err = await refused(await tarGzOf([{ name: 'a.bin', content: randomBytes(300_000) }]), {
    from: 'tar.gz',
    to: 'zip',
    limits: { maxInputBytes: 64 * 1024 },
  });
  assert.match(err.message, /upstream archive is larger than 64 KiB/);
});

test('a large archive within the limits streams through in bounded memory', async () => {
  let size = 0;
  const growth = await peakGrowth(async () => {
    const result = await repackArchive(zeroTarGz(96 * 1024 * 1024), { from: 'tar.gz', to: 'tar.gz', tmpDir: scratch });
    for await (const chunk of result.body) size += (chunk as Buffer).length;
  });
  assert.ok(size > 0);
  assert.ok(growth < 24 * 1024 * 1024, `memory grew by ${(growth / 1048576).toFixed(1)} MiB`);
});

test('corrupt input is an InputError; a failing upstream stream is an UnavailableError', async () => {
  const corrupt = await refused(Buffer.from('this is not gzip at all'), { from: 'tar.gz', to: 'zip' });
  assert.ok(isOpenDepotError(corrupt, 'input'));
  assert.match(corrupt.message, /not a valid tar.gz archive/);
  const notZip = await refused(Buffer.from('PK nope'), { from: 'zip', to: 'zip' });
  assert.match(notZip.message, /not a valid zip archive/);
  const good = await tarGzOf(tree);
  async function* broken() {
    yield good.subarray(0, 100);
    throw new Error('socket hang up');
  }
  const err = await refused(broken(), { from: 'tar.gz', to: 'zip' });
  assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
  assert.match(err.message, /socket hang up/);
});

test('no temporary files are left behind, after success or failure', async () => {
  const dir = await mkdtemp(join(scratch, 'tmp-'));
  const ok = await repackArchive(Readable.from([await zipOf(tree)]), { from: 'zip', to: 'zip', stripTopLevelDir: true, tmpDir: dir });
  assert.equal(await readdir(dir), []);
  assert.ok((await collect(ok.body)).length > 0, 'body still readable after its file was unlinked');
  await refused(await tarGzOf([{ name: '../x', content: 'x' }]), { from: 'tar.gz', to: 'zip', tmpDir: dir });
  assert.equal(await readdir(dir), []);
});

test.run();
