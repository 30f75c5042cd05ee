/**
 * A provider package's lock-file hashes are taken while it is stored: from the spooled package,
 * before the put, with no read back from storage (the backend's `get` is never called). The
 * hashes equal those of the package computed on its own; the zip limits still refuse a package
 * before anything is stored; a package that differs from the upstream's checksum is not stored.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { isOpenDepotError, type ArchiveSource, type StorageBackend } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fetchAndStore } from '../src/controllers/archive-sync.ts';
import { providerPackageHashes } from '@opendepot/archive-kit';
import { limitReason } from '../src/limits.ts';
import { collectBytes } from '@opendepot/sdk/testkit';
import { zipOf as testZip } from '@opendepot/testbed';

const dir = await mkdtemp(join(tmpdir(), 'opendepot-hash-store-'));
const spoolDir = join(dir, 'spool');
await mkdir(spoolDir);
const backend = await new FilesystemStorage({ path: join(dir, 'storage') }).init();
let reads = 0;
// The real filesystem backend, counting reads: hashing must not read the package back.
const storage = new Proxy(backend, {
  get(target, property) {
    if (property === 'get') reads++;
    const value = Reflect.get(target, property, target) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as StorageBackend;

test.after(() => rm(dir, { recursive: true, force: true }));

function zipOf(files: Record<string, string>): Promise<Buffer> {
  return testZip(Object.entries(files).map(([name, content]) => ({ name, content, mode: 0o644 })));
}

/** A source that serves `bytes` in small chunks, vouching for `expectedSha256` when given. */
function sourceOf(bytes: Buffer, expectedSha256?: string): ArchiveSource {
  return {
    listVersions: async () => [],
    fetch: async () => ({
      body: (async function* () {
        for (let at = 0; at < bytes.length; at += 997) yield bytes.subarray(at, at + 997);
      })(),
      filename: 'terraform-provider-hello_1.0.0_linux_amd64.zip',
      ...(expectedSha256 && { expectedSha256 }),
      protocols: ['6.0'],
    }),
  };
}

const subject = { kind: 'provider', name: 'hello', namespace: 'example' } as never;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('h1 and zh are computed from the spool as the package is stored, without reading storage back', async () => {
  const zip = await zipOf({ 'terraform-provider-hello_v1.0.0': '#!/bin/sh\nexit 0\n', LICENSE: 'MPL-2.0\n' });
  const key = 'providers/ns/example/hello/1.0.0/linux_amd64.zip';
  const stored = await fetchAndStore(sourceOf(zip, sha256(zip)), subject, '1.0.0', storage, key, { format: 'zip', spoolDir, providerHashes: {} });
  assert.is(stored.state, 'stored');
  if (stored.state !== 'stored') return;
  const alone = await providerPackageHashes(
    (async function* () {
      yield zip;
    })(),
  );
  assert.equal(stored.hashes, { h1: alone.h1, zh: `zh:${sha256(zip)}` });
  assert.equal([stored.info.sha256, stored.info.size, stored.protocols], [sha256(zip), zip.length, ['6.0']]);
  assert.is(reads, 0, 'storage was not read');
  assert.equal(await readdir(spoolDir), [], 'the spool is removed');
  assert.ok(Buffer.from(await collectBytes((await backend.get(key)).body)).equals(zip));
});

test('without an upstream checksum the backend still checks the bytes against the spool hash', async () => {
  const zip = await zipOf({ 'terraform-provider-hello_v1.0.1': 'x' });
  const stored = await fetchAndStore(sourceOf(zip), subject, '1.0.1', storage, 'providers/ns/example/hello/1.0.1/linux_amd64.zip', { format: 'zip', spoolDir, providerHashes: {} });
  assert.is(stored.state === 'stored' && stored.info.sha256, sha256(zip));
});

test('the zip limits refuse a package, signed or not, before anything is stored (LimitExceeded, not a differing upstream)', async () => {
  const zip = await zipOf(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, 'y'])));
  const key = 'providers/ns/example/hello/2.0.0/linux_amd64.zip';
  const err = await fetchAndStore(sourceOf(zip, sha256(zip)), subject, '2.0.0', storage, key, { format: 'zip', spoolDir, providerHashes: { limits: { maxEntries: 2 } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.is(limitReason(err), 'LimitExceeded', String(err));
  const missing = await backend.get(key).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(missing, 'not_found'), 'nothing was stored');
  assert.equal(await readdir(spoolDir), []);
});

test('a package that is not what the upstream vouches for is not stored', async () => {
  const zip = await zipOf({ 'terraform-provider-hello_v3.0.0': 'z' });
  const key = 'providers/ns/example/hello/3.0.0/linux_amd64.zip';
  const stored = await fetchAndStore(sourceOf(zip, 'b'.repeat(64)), subject, '3.0.0', storage, key, { format: 'zip', spoolDir, providerHashes: {} });
  assert.is(stored.state, 'upstream-differs');
  assert.ok(
    isOpenDepotError(
      await backend.get(key).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'not_found',
    ),
  );
});

test.run();
