/**
 * Issue 10 §2, archives: the overlapping-entries zip bomb is refused from its central directory
 * before any hashing or unpacking (the h1 hash once ran for days on one), declared and inflated
 * sizes are capped, and link bookkeeping is linear (the git repository with 19,990 symlinks is
 * in plugin-sources' upstream-costs-sources test). Real zips.
 */
import { Buffer } from 'node:buffer';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yazl from 'yazl';
import { isOpenDepotError } from '@opendepot/sdk';
import { collect, makeOverlapZipBomb } from '@opendepot/testbed';
import { repackArchive } from '../src/index.ts';
import { limitReason } from '../src/limit-errors.ts';
import { resolveLimits } from '../src/limits.ts';
import { hashZipFile, providerPackageHashes } from '../src/provider-hashes.ts';
import { SpooledTree } from '../src/tree.ts';

let scratch = '';
let bomb: Buffer;

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-costs-'));
  bomb = await makeOverlapZipBomb();
});
test.after(() => rm(scratch, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<Error & { configKey?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

async function* chunksOf(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function zipOf(files: { name: string; content: Buffer }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(f.content, f.name);
  zip.end();
  return collect(zip.outputStream as unknown as AsyncIterable<Uint8Array>);
}

test('the bomb: 65,535 records pointing at one 1 GiB entry, a few MB on the wire', () => {
  assert.ok(bomb.length > 3_000_000 && bomb.length < 6_000_000, `${bomb.length} bytes`);
  assert.is(bomb.readUInt16LE(bomb.length - 12), 65_535);
});

test('h1 of the bomb: refused at once as a permanent LimitExceeded naming operator.limits.providerZipMaxEntries', async () => {
  const began = performance.now();
  const err = await failure(providerPackageHashes(chunksOf(bomb), { tmpDir: scratch }));
  const ms = performance.now() - began;
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.is(limitReason(err), 'LimitExceeded');
  assert.is((err as { configKey?: string }).configKey, 'providerZipMaxEntries');
  assert.match(err.message, /65535 entries, more than the limit of 10000.*operator\.limits\.providerZipMaxEntries/);
  // Hashing even one GiB would take seconds; reading the central directory takes far less.
  assert.ok(ms < 20_000, `${ms} ms`);
});

test('h1 of a bomb under the entry limit: the overlapping records are refused before any entry is inflated', async () => {
  const small = await makeOverlapZipBomb({ entries: 1_000, inflatedBytes: 1024 * 1024 });
  const path = join(scratch, 'overlap.zip');
  await writeFile(path, small);
  const err = await failure(hashZipFile(path));
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.match(err.message, /overlapping entries/);
});

test('h1: the declared uncompressed total is capped before inflating; a well-formed package still hashes', async () => {
  const files = [
    { name: 'terraform-provider-x', content: Buffer.alloc(3 * 1024 * 1024, 7) },
    { name: 'README.md', content: Buffer.from('hello\n') },
  ];
  const zip = await zipOf(files);
  const path = join(scratch, 'ok.zip');
  await writeFile(path, zip);
  assert.match(await hashZipFile(path), /^h1:/);
  const err = await failure(hashZipFile(path, undefined, { maxUncompressedBytes: 2 * 1024 * 1024 }));
  assert.is(limitReason(err), 'LimitExceeded');
  assert.is(err.configKey, 'providerZipMaxUncompressedBytes');
  const few = await failure(hashZipFile(path, undefined, { maxEntries: 1 }));
  assert.is(few.configKey, 'providerZipMaxEntries');
});

test('h1: sizes declared smaller than what really inflates are refused (yauzl checks each entry, the counter the total)', async () => {
  const zip = await zipOf([{ name: 'a.bin', content: Buffer.alloc(1024 * 1024, 1) }]);
  // Lie in the central directory: declare 1 KiB for the 1 MiB entry.
  const cd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(1024, cd + 24);
  const path = join(scratch, 'liar.zip');
  await writeFile(path, zip);
  const err = await failure(hashZipFile(path));
  assert.match(err.message, /too many bytes|uncompressed|size|inflates/i);
});

test('repacking (module archives): the bomb and overlapping records are refused before inflating', async () => {
  const err = await failure(repackArchive(chunksOf(bomb), { from: 'zip', to: 'zip', tmpDir: scratch }));
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.match(err.message, /65535 entries/);
  const overlap = await failure(repackArchive(chunksOf(await makeOverlapZipBomb({ entries: 100, inflatedBytes: 1024 * 1024 })), { from: 'zip', to: 'zip', tmpDir: scratch }));
  assert.match(overlap.message, /overlapping entries/);
});

test('link bookkeeping is linear: 80,000 links are added and resolved in seconds (the quadratic check needed minutes)', async () => {
  const dir = await mkdtemp(join(scratch, 'tree-'));
  const tree = await SpooledTree.create(join(dir, 'spool'), resolveLimits({ maxEntries: 100_000 }));
  try {
    const began = performance.now();
    await tree.addFile('docs/target.md', 0o644, chunksOf(Buffer.from('# target\n')));
    for (let i = 0; i < 80_000; i++) tree.addLink('symlink', `links/l${i}.md`, '../docs/target.md');
    const entries = tree.finish();
    const seconds = (performance.now() - began) / 1000;
    // Quadratic: 80,000² / 2 path comparisons, about 90 s on a fast machine. Linear: well under 1 s.
    assert.ok(seconds < 20, `${seconds} s`);
    assert.is(entries.filter((e) => e.kind === 'file').length, 80_001);
    assert.throws(() => tree.addLink('symlink', 'links/l5.md', 'x'), /appears more than once/);
  } finally {
    await tree.close();
  }
});

test.run();
