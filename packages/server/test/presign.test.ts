/** Archives of a storage config with presign enabled: redirect, fallback to proxy, or refuse. */
import { randomBytes } from 'node:crypto';
import type { StorageConfig } from '@opendepot/core';
import type { PresignOptions, StorageBackend } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DownloadUrlSigner, artifactId, type NamedAuthProvider } from '../src/index.ts';
import type { DiskStorage } from './support/disk-storage.ts';
import { moduleKey, moduleResource, NS, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { rawRequest } from './support/http.ts';

const mod = moduleResource({ name: 'eks' });
const archiveUrl = (r: TestRegistry) => `${r.url}/opendepot/modules/v1/${NS}/eks/aws/1.0.0/archive.zip`;

/** The disk storage, made able to pre-sign (or failing to). */
function presigning(mode: 'works' | 'fails', calls: PresignOptions[]) {
  return (disk: DiskStorage) => async (): Promise<StorageBackend> =>
    Object.assign(Object.create(disk) as DiskStorage, {
      capabilities: { presign: true },
      async presign(key: string, options: PresignOptions) {
        calls.push(options);
        if (mode === 'fails') throw new Error('no signing key');
        return { url: `https://storage.example.test/${key}?sig=abc`, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000) };
      },
    });
}

async function withPresign(
  mode: 'works' | 'fails',
  presign: NonNullable<StorageConfig['presign']> | undefined,
  run: (r: TestRegistry, data: Buffer, calls: PresignOptions[]) => Promise<void>,
  defaultPresign?: NonNullable<StorageConfig['presign']>,
  auth?: { providers: NamedAuthProvider[]; downloadUrlSecret: Buffer },
) {
  const calls: PresignOptions[] = [];
  const r = await startTestRegistry({ resolveStorage: presigning(mode, calls), ...(defaultPresign && { defaultPresign }), ...(auth && { auth }) });
  try {
    const data = randomBytes(2048);
    const stored = await store(r.storage, moduleKey(mod, '1.0.0'), data);
    r.modules.put(mod);
    r.versions.put(versionResource({ owner: mod, version: '1.0.0', stored, storageConfig: { filesystem: { path: '/data' }, ...(presign && { presign }) } }));
    await run(r, data, calls);
  } finally {
    await r.close();
  }
}

test('presign enabled: the archive route redirects (307) to the pre-signed URL with the configured TTL', async () => {
  await withPresign('works', { enabled: true, ttl: '5m' }, async (r, _data, calls) => {
    const res = await rawRequest(archiveUrl(r));
    assert.is(res.status, 307);
    assert.is(res.headers.location, `https://storage.example.test/${moduleKey(mod, '1.0.0')}?sig=abc`);
    assert.equal(calls, [{ ttlSeconds: 300, filename: 'eks-aws-1.0.0.zip' }]);
    assert.equal(r.storage.reads, []);
  });
});

test('presign failing with fallbackToProxy (the default) proxies the verified bytes', async () => {
  await withPresign('fails', { enabled: true }, async (r, data) => {
    const res = await rawRequest(archiveUrl(r));
    assert.is(res.status, 200);
    assert.ok(res.complete && res.body.equals(data));
    assert.ok(r.logs.some((l) => l.msg === 'pre-signing failed; proxying the archive instead'));
  });
});

test('presign failing with fallbackToProxy false is a 503 and no byte passes through the server', async () => {
  await withPresign('fails', { enabled: true, fallbackToProxy: false }, async (r) => {
    const res = await rawRequest(archiveUrl(r));
    assert.is(res.status, 503);
    const message = JSON.parse(res.body.toString()).errors[0] as string;
    assert.match(message, 'cannot make a download URL for opendepot-system/eks/aws 1.0.0');
    // The backend's reason is the platform's business: logged, not answered.
    assert.not.match(message, 'no signing key');
    assert.ok(r.logs.some((l) => l.msg === 'pre-signing failed and fallbackToProxy is false' && String(l.reason).includes('no signing key')));
    assert.equal(r.storage.reads, []);
  });
});

test('the chart-wide default applies when the storageConfig sets no presign, and the resource setting wins over it', async () => {
  await withPresign(
    'works',
    undefined,
    async (r, _data, calls) => {
      const res = await rawRequest(archiveUrl(r));
      assert.is(res.status, 307);
      assert.equal(calls, [{ ttlSeconds: 600, filename: 'eks-aws-1.0.0.zip' }]);
    },
    { enabled: true, ttl: '10m' },
  );
  await withPresign(
    'works',
    { enabled: false },
    async (r, data, calls) => {
      const res = await rawRequest(archiveUrl(r));
      assert.is(res.status, 200);
      assert.ok(res.body.equals(data));
      assert.equal(calls, []);
    },
    { enabled: true, ttl: '10m' },
  );
});

test('a partial presign block refines the chart-wide default field by field: {ttl: 3m} keeps presigning on, with 3 minutes', async () => {
  await withPresign(
    'works',
    { ttl: '3m' },
    async (r, _data, calls) => {
      const res = await rawRequest(archiveUrl(r));
      assert.is(res.status, 307);
      assert.equal(calls, [{ ttlSeconds: 180, filename: 'eks-aws-1.0.0.zip' }]);
    },
    { enabled: true, ttl: '10m', fallbackToProxy: false },
  );
  // fallbackToProxy false from the chart still holds under the resource's {enabled, ttl}.
  await withPresign(
    'fails',
    { enabled: true, ttl: '3m' },
    async (r) => {
      assert.is((await rawRequest(archiveUrl(r))).status, 503);
      assert.equal(r.storage.reads, []);
    },
    { fallbackToProxy: false },
  );
});

test('with access control the signed download URL is checked first, then the archive redirects to the pre-signed URL', async () => {
  const secret = randomBytes(32);
  // No provider accepts anyone: only the signed URL can let the request through.
  await withPresign(
    'works',
    { enabled: true },
    async (r) => {
      assert.is((await rawRequest(archiveUrl(r))).status, 401);
      const query = new DownloadUrlSigner({ ttlSeconds: 60, secret }).query(artifactId('module', [NS, 'eks', 'aws', '1.0.0', 'archive.zip']));
      const res = await rawRequest(`${archiveUrl(r)}?${query}`);
      assert.is(res.status, 307);
      assert.is(res.headers.location, `https://storage.example.test/${moduleKey(mod, '1.0.0')}?sig=abc`);
    },
    undefined,
    { providers: [], downloadUrlSecret: secret },
  );
});

test.run();
