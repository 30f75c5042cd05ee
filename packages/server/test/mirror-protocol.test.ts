/**
 * The provider network mirror over real HTTP: upstream addresses mapped to provider Versions,
 * index.json and :version.json with both h1: and zh: per platform, archive URLs that resolve to
 * the package route, merging across namespaces, and that no signing key is needed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NS, startTestRegistry, type TestRegistry } from './support/fixtures.ts';
import { providerPackage, providerVersionResource, storeProvider, type ProviderPackage, type ProviderVersionOptions } from './support/providers.ts';

const MIRROR = '/opendepot/mirror/v1';
const packages = new Map<string, ProviderPackage>();

test.before(async () => {
  for (const [type, version, os, arch] of [
    ['aws', '5.80.0', 'linux', 'amd64'],
    ['aws', '5.80.0', 'darwin', 'arm64'],
    ['aws', '5.81.0', 'linux', 'amd64'],
    ['tls', '4.0.6', 'linux', 'amd64'],
  ] as const) {
    packages.set(`${type}/${version}/${os}_${arch}`, await providerPackage(type, version, os, arch));
  }
});

const pkg = (id: string) => packages.get(id)!;

async function withRegistry(run: (r: TestRegistry) => Promise<void>): Promise<void> {
  // No signing key: the mirror protocol has no signatures; hashes authenticate its packages.
  const r = await startTestRegistry();
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

async function putReady(r: TestRegistry, p: ProviderPackage, options: Partial<ProviderVersionOptions> = {}): Promise<void> {
  const namespace = options.namespace ?? NS;
  const stored = await storeProvider(r.storage, namespace, p);
  r.versions.put(providerVersionResource({ type: p.type, version: p.version, os: p.os, arch: p.arch, namespace, stored, ...options }));
}

async function getJson(url: string): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

type Archives = Record<string, { url: string; hashes: string[] }>;

test('a HashiCorp Releases provider is mirrored as registry.opentofu.org and registry.terraform.io hashicorp/<type>', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('aws/5.80.0/linux_amd64'));
    await putReady(r, pkg('aws/5.81.0/linux_amd64'));
    r.versions.put(providerVersionResource({ type: 'aws', version: '5.82.0', os: 'linux', arch: 'amd64' })); // not Ready yet
    for (const host of ['registry.opentofu.org', 'registry.terraform.io', 'Registry.OpenTofu.org']) {
      const index = await getJson(`${r.url}${MIRROR}/${host}/hashicorp/aws/index.json`);
      assert.is(index.status, 200, host);
      assert.match(index.type, /^application\/json/);
      assert.equal(index.body, { versions: { '5.80.0': {}, '5.81.0': {} } });
    }
    // The Kubernetes namespace is not part of a mirror address, and neither are other hosts.
    assert.is((await fetch(`${r.url}${MIRROR}/registry.opentofu.org/${NS}/aws/index.json`)).status, 404);
    assert.is((await fetch(`${r.url}${MIRROR}/registry.example.com/hashicorp/aws/index.json`)).status, 404);
  });
});

test(':version.json lists every Ready platform with both its h1: and zh: hash and a URL that serves the package', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('aws/5.80.0/linux_amd64');
    const darwin = pkg('aws/5.80.0/darwin_arm64');
    await putReady(r, linux);
    await putReady(r, darwin);
    const url = `${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/5.80.0.json`;
    const { status, type, body } = await getJson(url);
    assert.is(status, 200);
    assert.match(type, /^application\/json/);
    const archives = body.archives as Archives;
    assert.equal(Object.keys(archives), ['darwin_arm64', 'linux_amd64']);
    for (const [key, p] of [
      ['linux_amd64', linux],
      ['darwin_arm64', darwin],
    ] as const) {
      assert.equal(archives[key]!.hashes, [p.h1, `zh:${p.checksum}`], key);
      // Relative to the JSON's URL, as clients resolve it: the providers.v1 package route.
      assert.is(archives[key]!.url, `${r.url}/opendepot/providers/v1/${NS}/aws/5.80.0/${p.filename}`);
      const zip = await fetch(new URL(archives[key]!.url, url));
      assert.is(zip.status, 200, key);
      assert.ok(Buffer.from(await zip.arrayBuffer()).equals(p.data), key);
    }
    assert.is((await fetch(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/9.9.9.json`)).status, 404);
    assert.is((await fetch(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/not-a-version.json`)).status, 404);
  });
});

test('a registry-sourced provider is mirrored under its registry host and upstream namespace only', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('tls/4.0.6/linux_amd64'), { upstream: { source: 'registry', registryUrl: 'https://registry.terraform.io', namespace: 'hashicorp' } });
    await putReady(r, pkg('aws/5.80.0/linux_amd64'), { upstream: { source: 'registry', namespace: 'acme' } }); // default registry.opentofu.org
    assert.equal((await getJson(`${r.url}${MIRROR}/registry.terraform.io/hashicorp/tls/index.json`)).body, { versions: { '4.0.6': {} } });
    assert.is((await fetch(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/tls/index.json`)).status, 404);
    assert.equal((await getJson(`${r.url}${MIRROR}/registry.opentofu.org/acme/aws/index.json`)).body, { versions: { '5.80.0': {} } });
    assert.is((await fetch(`${r.url}${MIRROR}/registry.terraform.io/acme/aws/index.json`)).status, 404);
  });
});

test('Providers in several namespaces mirroring one address are merged; per platform the first namespace wins', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('aws/5.80.0/linux_amd64');
    const darwin = pkg('aws/5.80.0/darwin_arm64');
    await putReady(r, linux, { namespace: 'team-b' });
    await putReady(r, darwin, { namespace: 'team-b' });
    // team-a holds linux_amd64 too, with other bytes: team-a comes first, so its package is served.
    const other = { ...pkg('aws/5.81.0/linux_amd64'), version: '5.80.0', filename: linux.filename };
    await putReady(r, other, { namespace: 'team-a' });
    await putReady(r, pkg('aws/5.81.0/linux_amd64'), { namespace: 'team-a' });
    assert.equal((await getJson(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/index.json`)).body, { versions: { '5.80.0': {}, '5.81.0': {} } });
    const archives = (await getJson(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/5.80.0.json`)).body.archives as Archives;
    assert.equal(archives.linux_amd64!.hashes, [other.h1, `zh:${other.checksum}`]);
    assert.match(archives.linux_amd64!.url, `/providers/v1/team-a/aws/5.80.0/`);
    assert.equal(archives.darwin_arm64!.hashes, [darwin.h1, `zh:${darwin.checksum}`]);
    assert.match(archives.darwin_arm64!.url, `/providers/v1/team-b/aws/5.80.0/`);
    assert.ok(r.logs.some((l) => String(l.msg).includes('several Providers mirror one package with different checksums')));
  });
});

test('a Version without a recorded h1: is offered with its zh: alone; informer events update the mirror', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('aws/5.80.0/linux_amd64');
    const stored = await storeProvider(r.storage, NS, linux);
    delete stored.h1;
    const version = providerVersionResource({ type: 'aws', version: '5.80.0', os: 'linux', arch: 'amd64', stored });
    r.versions.put(version);
    const archives = (await getJson(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/5.80.0.json`)).body.archives as Archives;
    assert.equal(archives.linux_amd64!.hashes, [`zh:${linux.checksum}`]);
    r.versions.remove(version);
    assert.is((await fetch(`${r.url}${MIRROR}/registry.opentofu.org/hashicorp/aws/index.json`)).status, 404);
  });
});

test.run();
