/**
 * The provider package route (the proxied download): HEAD from the cache, a full GET hashed
 * while it streams and cut off on a mismatch, single byte ranges (206, 416, If-Range), and the
 * module archive route keeping its no-range behaviour.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createSigningKey } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decideRange, signingKeyOf, type SigningKey } from '../src/index.ts';
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

test('HEAD answers from the cache: length, ETag, Accept-Ranges: bytes, zip type; storage is not read', async () => {
  await withPackage(100_000, async (r, p, url) => {
    const head = await rawRequest(url, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.headers['content-length'], '100000');
    assert.is(head.headers.etag, `"${p.checksum}"`);
    assert.is(head.headers['accept-ranges'], 'bytes');
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
    assert.is(res.headers['accept-ranges'], 'bytes');
    assert.ok(res.body.equals(p.data));
    assert.equal(r.storage.ranges, [undefined]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(r.logs.some((l) => l.msg === 'request' && l.route === 'providers.package' && l.outcome === 'verified' && l.bytes === p.data.length));
  });
});

test('a single range is a 206 with Content-Range, and only that range is read from storage', async () => {
  await withPackage(1_000_000, async (r, p, url) => {
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=999000-', 999_000, 999_999],
      ['bytes=-500', 999_500, 999_999],
      ['bytes=500000-2000000', 500_000, 999_999], // the end is clamped to the size
    ];
    for (const [range, start, end] of cases) {
      const res = await rawRequest(url, { headers: { Range: range } });
      assert.is(res.status, 206, range);
      assert.ok(res.complete, range);
      assert.is(res.headers['content-range'], `bytes ${start}-${end}/1000000`, range);
      assert.is(res.headers['content-length'], String(end - start + 1), range);
      assert.is(res.headers.etag, `"${p.checksum}"`);
      assert.ok(res.body.equals(p.data.subarray(start, end + 1)), range);
    }
    assert.equal(r.storage.ranges, [
      { start: 0, end: 99 },
      { start: 999_000, end: 999_999 },
      { start: 999_500, end: 999_999 },
      { start: 500_000, end: 999_999 },
    ]);
  });
});

test('an unsatisfiable range is a 416 with Content-Range: bytes */size; ignored ranges get the whole package', async () => {
  await withPackage(10_000, async (r, p, url) => {
    for (const range of ['bytes=10000-', 'bytes=20000-30000', 'bytes=-0']) {
      const res = await rawRequest(url, { headers: { Range: range } });
      assert.is(res.status, 416, range);
      assert.is(res.headers['content-range'], 'bytes */10000', range);
      assert.match(JSON.parse(res.body.toString()).errors[0], 'not satisfiable');
    }
    // Not understood or not offered (several ranges, other units, reversed): the whole body, 200.
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-1', 'bytes=abc']) {
      const res = await rawRequest(url, { headers: { Range: range } });
      assert.is(res.status, 200, range);
      assert.ok(res.body.equals(p.data), range);
    }
    assert.is(r.storage.reads.length, 4, 'the 416s read nothing');
  });
});

test('If-Range: the current ETag honours the range; anything else (a date, another ETag) sends the whole package', async () => {
  await withPackage(10_000, async (_r, p, url) => {
    const same = await rawRequest(url, { headers: { Range: 'bytes=0-9', 'If-Range': `"${p.checksum}"` } });
    assert.is(same.status, 206);
    assert.ok(same.body.equals(p.data.subarray(0, 10)));
    for (const ifRange of [`"${'0'.repeat(64)}"`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const other = await rawRequest(url, { headers: { Range: 'bytes=0-9', 'If-Range': ifRange } });
      assert.is(other.status, 200, ifRange);
      assert.is(other.body.length, 10_000);
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
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
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
      assert.match(JSON.parse(res.body.toString()).errors[0], 'it is stalled (ChecksumMismatch: the stored archive changed)');
    }
  });
});

test('a stored package of another size is refused with a 503 before any byte, ranged or not', async () => {
  await withPackage(10_000, async (r, p, url) => {
    await r.storage.put(providerKey(NS, p), (async function* () {
      yield randomBytes(500);
    })());
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

test('decideRange follows RFC 9110 for the forms clients send', () => {
  const etag = '"abc"';
  assert.equal(decideRange(undefined, 100, etag), { kind: 'full' });
  assert.equal(decideRange('bytes=0-0', 100, etag), { kind: 'partial', start: 0, end: 0 });
  assert.equal(decideRange('bytes = 5-', 100, etag), { kind: 'partial', start: 5, end: 99 });
  assert.equal(decideRange('bytes=-1000', 100, etag), { kind: 'partial', start: 0, end: 99 });
  assert.equal(decideRange('bytes=99999999999999999999-', 100, etag), { kind: 'unsatisfiable' });
  assert.equal(decideRange('bytes=0-99999999999999999999', 100, etag), { kind: 'partial', start: 0, end: 99 });
  assert.equal(decideRange('bytes=0-', 0, etag), { kind: 'unsatisfiable' });
  assert.equal(decideRange('bytes=-', 100, etag), { kind: 'full' });
  assert.equal(decideRange('bytes=0-9', 100, etag, '"abc"'), { kind: 'partial', start: 0, end: 9 });
  assert.equal(decideRange('bytes=0-9', 100, etag, 'W/"abc"'), { kind: 'full' }, 'If-Range needs a strong match');
});

test.run();
