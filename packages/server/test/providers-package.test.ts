/**
 * The provider package route (the proxied download): HEAD from the cache, a full GET hashed
 * while it streams and cut off on a mismatch, and `Range` ignored (a part cannot be verified
 * against the whole file's checksum), as on the module archive route.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createSigningKey } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signingKeyOf, type SigningKey } from '../src/index.ts';
import { condition, moduleKey, moduleResource, NS, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { rawRequest } from './support/http.ts';
import { providerKey, providerVersionResource, storeProvider, type ProviderPackage } from './support/providers.ts';

let key: SigningKey;
test.before(async () => {
  key = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Server Test' })).privateKeyArmored);
});

/** A "package" of random bytes: the route serves bytes; what they are does not matter here. */
function randomPackage(size: number, version = '1.0.0'): ProviderPackage {
  const data = randomBytes(size);
  return {
    type: 'hello',
    version,
    os: 'linux',
    arch: 'amd64',
    data,
    filename: `terraform-provider-hello_${version}_linux_amd64.zip`,
    checksum: createHash('sha256').update(data).digest('hex'),
    h1: `h1:${createHash('sha256').update('x').digest('base64')}`,
  };
}

async function withPackage(size: number, run: (r: TestRegistry, p: ProviderPackage, url: string) => Promise<void>): Promise<void> {
  const r = await startTestRegistry({ signingKey: key });
  try {
    const p = randomPackage(size);
    const stored = await storeProvider(r.storage, NS, p);
    r.versions.put(providerVersionResource({ type: 'hello', version: p.version, os: 'linux', arch: 'amd64', stored }));
    await run(r, p, `${r.url}/opendepot/providers/v1/${NS}/hello/${p.version}/${p.filename}`);
  } finally {
    await r.close();
  }
}

test('HEAD answers from the cache: length, ETag, Accept-Ranges: none, zip type; storage is not read', async () => {
  await withPackage(100_000, async (r, p, url) => {
    const head = await rawRequest(url, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.headers['content-length'], '100000');
    assert.is(head.headers.etag, `"${p.checksum}"`);
    assert.is(head.headers['accept-ranges'], 'none');
    assert.is(head.headers['content-type'], 'application/zip');
    assert.is(head.headers['content-disposition'], `attachment; filename="${p.filename}"`);
    assert.equal(r.storage.reads, []);
  });
});

test('a full GET streams the whole package, verified, with Content-Length', async () => {
  await withPackage(1_000_000, async (r, p, url) => {
    const res = await rawRequest(url);
    assert.is(res.status, 200);
    assert.ok(res.complete);
    assert.is(res.headers['content-length'], String(p.data.length));
    assert.is(res.headers['accept-ranges'], 'none');
    assert.ok(res.body.equals(p.data));
    assert.equal(r.storage.ranges, [undefined]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(r.logs.some((l) => l.msg === 'request' && l.route === 'providers.package' && l.outcome === 'verified' && l.bytes === p.data.length));
  });
});

test('every Range (with or without If-Range, satisfiable or not) is ignored: 200, the whole package read whole and verified', async () => {
  await withPackage(1_000_000, async (r, p, url) => {
    const cases: Record<string, string>[] = [
      { Range: 'bytes=0-99' },
      { Range: 'bytes=999000-' },
      { Range: 'bytes=-500' },
      { Range: 'bytes=2000000-' },
      { Range: 'bytes=0-1,5-6' },
      { Range: 'items=0-1' },
      { Range: 'bytes=0-9', 'If-Range': `"${p.checksum}"` },
      { Range: 'bytes=0-9', 'If-Range': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    ];
    for (const headers of cases) {
      const res = await rawRequest(url, { headers });
      const label = JSON.stringify(headers);
      assert.is(res.status, 200, label);
      assert.ok(res.complete, label);
      assert.is(res.headers['accept-ranges'], 'none', label);
      assert.is(res.headers['content-range'], undefined, label);
      assert.is(res.headers['content-length'], '1000000', label);
      assert.ok(res.body.equals(p.data), label);
    }
    assert.equal(
      r.storage.ranges,
      cases.map(() => undefined),
      'storage is always read whole',
    );
    const head = await rawRequest(url, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    assert.is(head.status, 200);
    assert.is(head.headers['content-length'], '1000000');
  });
});

test('attack: a tampered byte is never answered as a success, Range included: no 206, every transfer reaching it is cut', async () => {
  await withPackage(1_000_000, async (r, p, url) => {
    const at = 500_000;
    const tampered = Buffer.from(p.data);
    tampered[at] = tampered[at]! ^ 0xff;
    await writeFile(r.storage.path(providerKey(NS, p)), tampered);
    // The audit's request: a range of just the tampered bytes came back as a complete 206.
    for (const headers of [{}, { Range: `bytes=${at}-${at + 9}` }, { Range: `bytes=${at}-${at + 9}`, 'If-Range': `"${p.checksum}"` }, { Range: `bytes=${at}-` }] as Record<string, string>[]) {
      const res = await rawRequest(url, { headers });
      const label = JSON.stringify(headers);
      assert.is(res.status, 200, label);
      assert.is(res.headers['content-range'], undefined, label);
      assert.is(res.complete, false, `${label}: the client sees the transfer fail`);
      assert.ok(res.error, label);
      assert.ok(res.body.length < p.data.length, label);
    }
  });
});

test('a tampered package (same size) aborts a full GET before its last bytes; a ranged GET is served only for Ready Versions', async () => {
  await withPackage(1_000_000, async (r, p, url) => {
    const tampered = Buffer.from(p.data);
    tampered[tampered.length - 10] = tampered[tampered.length - 10]! ^ 0xff;
    await writeFile(r.storage.path(providerKey(NS, p)), tampered);
    const full = await rawRequest(url);
    assert.is(full.status, 200, 'the headers went out before the hash was known');
    assert.is(full.complete, false);
    assert.ok(full.error, 'the client saw the transfer fail');
    assert.ok(full.body.length < p.data.length);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(r.logs.some((l) => l.msg === 'request' && l.route === 'providers.package' && l.outcome === 'checksum-mismatch' && l.aborted === true));
    const metrics = await (await fetch(`${r.metricsUrl}/metrics`)).text();
    assert.match(metrics, /opendepot_server_archive_verification_failures_total 1/);

    // A Version no longer Ready: no byte of it, ranged or not.
    r.versions.put(
      providerVersionResource({
        type: 'hello',
        version: p.version,
        os: 'linux',
        arch: 'amd64',
        conditions: [condition('Ready', 'False', 'ChecksumMismatch'), condition('Stalled', 'True', 'ChecksumMismatch', 'the stored archive changed')],
      }),
    );
    for (const headers of [{}, { Range: 'bytes=0-99' }] as Record<string, string>[]) {
      const res = await rawRequest(url, { headers });
      assert.is(res.status, 409, JSON.stringify(headers));
      const message = JSON.parse(res.body.toString()).errors[0] as string;
      assert.match(message, 'neither its stored archive nor its source matches the recorded checksum, so it is neither listed nor served (reason: ChecksumMismatch)');
      assert.not.match(message, 'the stored archive changed', 'the condition message is for the log only');
    }
  });
});

test('a stored package of another size is refused with a 503 before any byte, ranged or not', async () => {
  await withPackage(10_000, async (r, p, url) => {
    await r.storage.put(
      providerKey(NS, p),
      (async function* () {
        yield randomBytes(500);
      })(),
    );
    for (const headers of [{}, { Range: 'bytes=0-99' }] as Record<string, string>[]) {
      const res = await rawRequest(url, { headers });
      assert.is(res.status, 503, JSON.stringify(headers));
      assert.match(JSON.parse(res.body.toString()).errors[0], 'does not match the checksum recorded on its Version');
    }
  });
});

test('an unknown package file name is a 404 naming the available platforms', async () => {
  await withPackage(1_000, async (r) => {
    const res = await fetch(`${r.url}/opendepot/providers/v1/${NS}/hello/1.0.0/terraform-provider-hello_1.0.0_plan9_amd64.zip`);
    assert.is(res.status, 404);
    assert.match(((await res.json()) as { errors: string[] }).errors[0]!, 'has no package terraform-provider-hello_1.0.0_plan9_amd64.zip; available platforms: linux_amd64');
  });
});

test('module archives keep Accept-Ranges: none and answer a Range with the whole, verified archive', async () => {
  const r = await startTestRegistry();
  try {
    const eks = moduleResource({ name: 'eks' });
    r.modules.put(eks);
    const data = randomBytes(5000);
    r.versions.put(versionResource({ owner: eks, version: '1.0.0', stored: await store(r.storage, moduleKey(eks, '1.0.0'), data) }));
    const res = await rawRequest(`${r.url}/opendepot/modules/v1/${NS}/eks/aws/1.0.0/archive.zip`, { headers: { Range: 'bytes=0-9' } });
    assert.is(res.status, 200);
    assert.is(res.headers['accept-ranges'], 'none');
    assert.ok(res.body.equals(data));
  } finally {
    await r.close();
  }
});

test.run();
