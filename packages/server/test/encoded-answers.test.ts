/**
 * Answers encoded once (modules.v1 and providers.v1 `versions`, the network mirror): a strong
 * ETag and `If-None-Match` → 304 without a body, the gzipped copy for clients that accept gzip,
 * and a rebuild as soon as a Version change is in the informer (never a stale answer).
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptsGzip, matchesEtag } from '../src/http/encoded-answer.ts';
import { moduleResource, NS, versionResource, withTestRegistry, type TestRegistry } from './support/fixtures.ts';
import { rawRequest, type RawResponse } from './support/http.ts';
import { providerKey, providerVersionResource, type StoredProvider } from './support/providers.ts';

const eks = moduleResource({ name: 'terraform-aws-eks', provider: 'aws' });
const fakeStored = (version: string) => ({ checksum: createHash('sha256').update(version).digest('hex'), size: 100 });

/** `count` Ready versions 1.0.0 … of `eks`: 100 of them make an answer well above the gzip threshold. */
function seedModule(r: TestRegistry, count: number): void {
  r.modules.put(eks);
  for (let i = 0; i < count; i++) r.versions.put(versionResource({ owner: eks, version: `1.${i}.0`, stored: fakeStored(`1.${i}.0`) }));
}

const moduleVersionsUrl = (r: TestRegistry) => `${r.url}/opendepot/modules/v1/${NS}/terraform-aws-eks/aws/versions`;
const listed = (res: RawResponse): string[] => (JSON.parse(plainBody(res).toString('utf8')) as { modules: [{ versions: { version: string }[] }] }).modules[0].versions.map((v) => v.version);
const plainBody = (res: RawResponse): Buffer => (res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body);

test('If-None-Match and Accept-Encoding are read as RFC 9110 says', () => {
  assert.ok(matchesEtag('"abc"', '"abc"'));
  assert.ok(matchesEtag('"x", W/"abc"', '"abc"'));
  assert.ok(matchesEtag('*', '"abc"'));
  assert.not.ok(matchesEtag('', '"abc"'));
  assert.not.ok(matchesEtag('"abcd"', '"abc"'));
  assert.ok(acceptsGzip('gzip'));
  assert.ok(acceptsGzip('deflate, gzip;q=0.5, br'));
  assert.not.ok(acceptsGzip('gzip;q=0'));
  assert.not.ok(acceptsGzip('br, gzip; q=0.000'));
  assert.not.ok(acceptsGzip('identity'));
  assert.not.ok(acceptsGzip('*'));
  assert.not.ok(acceptsGzip(''));
});

test('modules.v1 versions: a strong ETag, and If-None-Match with it is a 304 without a body', async () => {
  await withTestRegistry(async (r) => {
    seedModule(r, 3);
    const first = await rawRequest(moduleVersionsUrl(r));
    assert.is(first.status, 200);
    const etag = first.headers.etag as string;
    assert.match(etag, /^"[A-Za-z0-9_-]{16,}"$/, 'strong (no W/) and quoted');
    assert.equal(listed(first), ['1.0.0', '1.1.0', '1.2.0']);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await rawRequest(moduleVersionsUrl(r), { headers: { 'If-None-Match': header } });
      assert.is(again.status, 304, header);
      assert.is(again.body.length, 0);
      assert.is(again.headers.etag, etag);
    }
    const other = await rawRequest(moduleVersionsUrl(r), { headers: { 'If-None-Match': '"not-it"' } });
    assert.is(other.status, 200);
    assert.equal(listed(other), ['1.0.0', '1.1.0', '1.2.0']);
  });
});

test('modules.v1 versions: gzipped (once, not twice) for clients that accept gzip, plain for the others', async () => {
  await withTestRegistry(async (r) => {
    seedModule(r, 100);
    const plain = await rawRequest(moduleVersionsUrl(r));
    assert.is(plain.headers['content-encoding'], undefined);
    assert.is(Number(plain.headers['content-length']), plain.body.length);
    assert.match(String(plain.headers.vary), /Accept-Encoding/i);
    const gzipped = await rawRequest(moduleVersionsUrl(r), { headers: { 'Accept-Encoding': 'gzip' } });
    assert.is(gzipped.status, 200);
    assert.is(gzipped.headers['content-encoding'], 'gzip');
    assert.match(String(gzipped.headers.vary), /Accept-Encoding/i);
    assert.match(String(gzipped.headers['content-type']), /^application\/json/);
    assert.ok(gzipped.body.length < plain.body.length / 2, 'compressed');
    // One gunzip gives the JSON: the body was not encoded twice.
    assert.ok(gunzipSync(gzipped.body).equals(plain.body));
    assert.is(gzipped.headers.etag, plain.headers.etag);
    const refused = await rawRequest(moduleVersionsUrl(r), { headers: { 'Accept-Encoding': 'gzip;q=0' } });
    assert.is(refused.headers['content-encoding'], undefined);
    assert.ok(refused.body.equals(plain.body));
    const notModified = await rawRequest(moduleVersionsUrl(r), { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(plain.headers.etag) } });
    assert.is(notModified.status, 304);
    assert.is(notModified.body.length, 0);
  });
});

test('modules.v1 versions: a Version change in the informer rebuilds the answer, its ETag and its gzipped copy', async () => {
  await withTestRegistry(async (r) => {
    seedModule(r, 100);
    const before = await rawRequest(moduleVersionsUrl(r), { headers: { 'Accept-Encoding': 'gzip' } });
    const etag = String(before.headers.etag);
    assert.not.ok(listed(before).includes('2.0.0'));

    // Added: listed at once, in both encodings; the old ETag no longer matches.
    r.versions.put(versionResource({ owner: eks, version: '2.0.0', stored: fakeStored('2.0.0') }));
    for (const headers of [{ 'Accept-Encoding': 'gzip', 'If-None-Match': etag }, { 'If-None-Match': etag }] as Record<string, string>[]) {
      const after = await rawRequest(moduleVersionsUrl(r), { headers });
      assert.is(after.status, 200);
      assert.ok(listed(after).includes('2.0.0'));
      assert.is.not(after.headers.etag, etag);
    }

    // No longer servable (status changed): gone from both encodings.
    r.versions.put(versionResource({ owner: eks, version: '2.0.0' }));
    for (const headers of [{ 'Accept-Encoding': 'gzip' }, {}] as Record<string, string>[]) assert.not.ok(listed(await rawRequest(moduleVersionsUrl(r), { headers })).includes('2.0.0'));
    // Back to the first set of Versions: the same bytes, so the same ETag again.
    const same = await rawRequest(moduleVersionsUrl(r), { headers: { 'If-None-Match': etag } });
    assert.is(same.status, 304);

    // Deleted: gone.
    r.versions.remove(versionResource({ owner: eks, version: '1.0.0', stored: fakeStored('1.0.0') }));
    const removed = await rawRequest(moduleVersionsUrl(r), { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': etag } });
    assert.is(removed.status, 200);
    assert.not.ok(listed(removed).includes('1.0.0'));
  });
});

function stored(type: string, version: string, os: string, arch: string): StoredProvider {
  const checksum = createHash('sha256').update(`${type}${version}${os}${arch}`).digest('hex');
  const filename = `terraform-provider-${type}_${version}_${os}_${arch}.zip`;
  return {
    checksum,
    size: 100,
    storageKey: providerKey(NS, { type, version, os, arch }),
    h1: `h1:${createHash('sha256').update(checksum).digest('base64')}`,
    zh: `zh:${checksum}`,
    filename,
    protocols: ['5.0'],
  };
}

function seedProvider(r: TestRegistry, versions: number): void {
  for (let i = 0; i < versions; i++) {
    const version = `5.${i}.0`;
    r.versions.put(providerVersionResource({ type: 'aws', version, os: 'linux', arch: 'amd64', stored: stored('aws', version, 'linux', 'amd64') }));
  }
}

test('providers.v1 versions and the mirror index: ETag/304, gzip, and a rebuild on change', async () => {
  await withTestRegistry(async (r) => {
    seedProvider(r, 120); // both answers above the gzip threshold
    for (const url of [`${r.url}/opendepot/providers/v1/${NS}/aws/versions`, `${r.url}/opendepot/mirror/v1/registry.opentofu.org/hashicorp/aws/index.json`]) {
      const first = await rawRequest(url, { headers: { 'Accept-Encoding': 'gzip' } });
      assert.is(first.status, 200, url);
      assert.is(first.headers['content-encoding'], 'gzip', url);
      const etag = String(first.headers.etag);
      const cached = await rawRequest(url, { headers: { 'If-None-Match': etag } });
      assert.is(cached.status, 304, url);
      assert.is(cached.body.length, 0);
      assert.not.ok(plainBody(first).toString().includes('"6.0.0"'));
      const version = '6.0.0';
      r.versions.put(providerVersionResource({ type: 'aws', version, os: 'linux', arch: 'amd64', stored: stored('aws', version, 'linux', 'amd64') }));
      const changed = await rawRequest(url, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': etag } });
      assert.is(changed.status, 200, url);
      assert.ok(plainBody(changed).toString().includes('"6.0.0"'), url);
      r.versions.remove(providerVersionResource({ type: 'aws', version, os: 'linux', arch: 'amd64' }));
    }
  });
});

test('mirror version documents embed the request base: encoded and tagged per base', async () => {
  await withTestRegistry(async (r) => {
    seedProvider(r, 1);
    const url = `${r.url}/opendepot/mirror/v1/registry.opentofu.org/hashicorp/aws/5.0.0.json`;
    const a = await rawRequest(url, { headers: { Host: 'a.example' } });
    const b = await rawRequest(url, { headers: { Host: 'b.example' } });
    assert.is(a.status, 200);
    assert.ok(a.body.toString().includes('http://a.example/'));
    assert.ok(b.body.toString().includes('http://b.example/'));
    assert.is.not(a.headers.etag, b.headers.etag);
    assert.is((await rawRequest(url, { headers: { Host: 'a.example', 'If-None-Match': String(a.headers.etag) } })).status, 304);
    assert.is((await rawRequest(url, { headers: { Host: 'b.example', 'If-None-Match': String(a.headers.etag) } })).status, 200);
  });
});

test.run();
