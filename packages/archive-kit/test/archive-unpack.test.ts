/** Unpacking stored module archives into a directory for scanners: what lands where, and what never does. */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError } from '@opendepot/sdk';
import { unpackArchive } from '../src/index.ts';
import { tarGzOf, zipOf, type TestEntry } from '@opendepot/testbed/archive-helpers';

let work: string;
test.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'opendepot-unpack-test-'));
});
test.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

async function unpack(bytes: Buffer, from: 'zip' | 'tar.gz'): Promise<{ dir: string; entries: number }> {
  const dir = join(work, 'module');
  await mkdir(dir);
  const entries = await unpackArchive(Readable.from([bytes]), { from, dir });
  return { dir, entries };
}

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const module: TestEntry[] = [
  { name: 'main.tf', content: 'output "a" { value = 1 }\n' },
  { name: 'modules/', type: 'directory' },
  { name: 'modules/vpc/main.tf', content: 'resource "null_resource" "x" {}\n' },
  { name: 'scripts/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { name: 'docs/link.md', type: 'symlink', linkname: '../main.tf' },
];

for (const format of ['tar.gz', 'zip'] as const) {
  test(`a ${format} module unpacks file by file, with executables kept executable and links resolved to copies`, async () => {
    const bytes = format === 'zip' ? await zipOf(module) : await tarGzOf(module);
    const { dir, entries } = await unpack(bytes, format);
    assert.ok(entries >= 5, `entries ${entries}`);
    assert.equal(await files(dir), ['docs/link.md', 'main.tf', 'modules/vpc/main.tf', 'scripts/run.sh']);
    assert.is(await readFile(join(dir, 'modules/vpc/main.tf'), 'utf8'), 'resource "null_resource" "x" {}\n');
    assert.is(await readFile(join(dir, 'docs/link.md'), 'utf8'), 'output "a" { value = 1 }\n');
    assert.ok(((await stat(join(dir, 'scripts/run.sh'))).mode & 0o100) !== 0, 'executable');
    assert.is((await stat(join(dir, 'main.tf'))).mode & 0o777, 0o600);
    // The spool it read through is gone.
    assert.equal((await readdir(work)).sort(), ['module']);
  });
}

for (const format of ['tar.gz', 'zip'] as const) {
  test(`a ${format} module unpacked with include writes only those entries, and still checks the whole archive`, async () => {
    const dir = join(work, 'module');
    await mkdir(dir);
    const bytes = format === 'zip' ? await zipOf(module) : await tarGzOf(module);
    const entries = await unpackArchive(Readable.from([bytes]), { from: format, dir, include: (path) => !path.includes('/') });
    assert.ok(entries >= 5, 'every entry was read');
    assert.equal(await files(dir), ['main.tf']);
    // A bad entry anywhere is still refused, even when nothing of it would be written (yazl
    // cannot even write a climbing zip entry, so this half is tar.gz).
    if (format === 'zip') return;
    const climbing = await tarGzOf([...module, { name: '../outside.tf', content: 'x' }]);
    await rm(dir, { recursive: true });
    await mkdir(dir);
    const refused = await unpackArchive(Readable.from([climbing]), { from: format, dir, include: (path) => path === 'main.tf' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(isOpenDepotError(refused), `refused: ${String(refused)}`);
  });
}

// Found by the fuzz run (archive-fuzz.test.ts): an empty file made unpacking fail with a RangeError.
for (const format of ['tar.gz', 'zip'] as const) {
  test(`a ${format} module with empty files (first in the archive, and later) unpacks them as empty files`, async () => {
    const entries: TestEntry[] = [
      { name: '.gitkeep', content: '' },
      { name: 'main.tf', content: 'output "a" { value = 1 }\n' },
      { name: 'README.md', content: '' },
    ];
    const { dir } = await unpack(format === 'zip' ? await zipOf(entries) : await tarGzOf(entries), format);
    assert.equal(await files(dir), ['.gitkeep', 'README.md', 'main.tf']);
    assert.is(await readFile(join(dir, '.gitkeep'), 'utf8'), '');
    assert.is(await readFile(join(dir, 'README.md'), 'utf8'), '');
  });
}

test('a corrupt archive is an InputError, as in repacking, never an untyped error', async () => {
  for (const format of ['tar.gz', 'zip'] as const) {
    const err = await unpack(Buffer.from('not an archive at all'), format).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOpenDepotError(err, 'input'), `${format}: ${String(err)}`);
    await rm(join(work, 'module'), { recursive: true });
  }
});

test('an entry that climbs out of the archive is refused and nothing lands outside the directory', async () => {
  const bytes = await tarGzOf([
    { name: 'main.tf', content: 'ok' },
    { name: '../../escape.tf', content: 'evil' },
  ]);
  const err = await unpack(bytes, 'tar.gz').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(err, 'input'), String(err));
  assert.equal((await readdir(work)).sort(), ['module']);
  assert.equal(await files(join(work, 'module')), []);
});

test.run();
