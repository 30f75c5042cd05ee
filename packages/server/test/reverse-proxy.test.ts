/**
 * Behind a reverse proxy that adds a path prefix (HTTPS in front, plain HTTP behind, as an
 * Ingress does), every URL the server hands out points through the proxy, under its prefix: the
 * real `tofu` and Terraform 1.5.7 install a module and a signed provider, and tofu a provider
 * from the network mirror, with the proxy as the only address they know. Every URL in the JSON
 * answers is absolute and under the proxy.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, type Module, type Version } from '@opendepot/core';
import { cliConfigText, createSigningKey, createTestCertificates, runRegistryClient, startReverseProxy, type ReverseProxy } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRegistryServer, signingKeyOf, type ListeningServer, type RegistryServer } from '../src/index.ts';
import { DiskStorage } from './support/disk-storage.ts';
import { moduleKey, moduleResource, NS, store, versionResource } from './support/fixtures.ts';
import { rawRequest } from './support/http.ts';
import { MemoryInformer } from './support/memory-informer.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

const execFileAsync = promisify(execFile);
const HOST = 'opendepot.test';
const PREFIX = '/registry';

let dir: string;
let caFile: string;
let caPem: string;
let registry: RegistryServer;
let listening: ListeningServer;
let proxy: ReverseProxy;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-reverse-proxy-'));
  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'main.tf'), 'output "through" {\n  value = "the proxy"\n}\n');
  await execFileAsync('zip', ['-q', '-X', '-r', join(dir, 'vpc.zip'), '.'], { cwd: src });
  const vpc = moduleResource({ name: 'terraform-aws-vpc', provider: 'aws' });
  modules.put(vpc);
  versions.put(versionResource({ owner: vpc, version: '1.0.0', stored: await store(storage, moduleKey(vpc, '1.0.0'), await readFile(join(dir, 'vpc.zip'))) }));
  const hello = await providerPackage('hello', '1.0.0', 'linux', 'amd64');
  versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os: 'linux', arch: 'amd64', stored: await storeProvider(storage, NS, hello) }));

  const certs = await createTestCertificates();
  caPem = certs.caPem;
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  registry = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: async () => storage,
    logger: createLogger({ level: 'warn', destination: { write: () => undefined } }),
    defaultMetrics: false,
    signingKey: await signingKeyOf((await createSigningKey({ name: 'OpenDepot Proxy Test' })).privateKeyArmored),
    trustedProxies: ['127.0.0.1'],
  });
  // TLS ends at the proxy; the server speaks plain HTTP behind it.
  listening = await registry.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });
  proxy = await startReverseProxy({ target: listening.url, prefix: PREFIX, certPem: certs.certPem, keyPem: certs.keyPem });
});

test.after(async () => {
  await proxy?.close();
  await listening?.close();
  registry?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every string in a JSON document that looks like a URL or a path. */
function urlsIn(value: unknown): string[] {
  if (typeof value === 'string') return /^(https?:|\/|\.\.?\/)/.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(urlsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(urlsIn);
  return [];
}

async function viaProxy(path: string): Promise<{ status: number; json(): unknown; header(name: string): string }> {
  const res = await rawRequest(`${proxy.url}${path}`, { ca: caPem });
  return { status: res.status, json: () => JSON.parse(res.body.toString()), header: (name) => String(res.headers[name] ?? '') };
}

test('every URL in the JSON answers and the module location is absolute and under the proxy prefix', async () => {
  const download = await viaProxy(`/opendepot/providers/v1/${NS}/hello/1.0.0/download/linux/amd64`);
  assert.is(download.status, 200);
  const urls = urlsIn(download.json());
  assert.ok(urls.length >= 4, `found ${urls.join(', ')}`);
  for (const url of urls) assert.ok(url.startsWith(`${proxy.url}/opendepot/providers/v1/`), url);
  for (const url of urls) assert.is((await viaProxy(url.slice(proxy.url.length))).status, 200, `${url} serves through the proxy`);

  const mirror = await viaProxy('/opendepot/mirror/v1/registry.opentofu.org/hashicorp/hello/1.0.0.json');
  assert.is(mirror.status, 200);
  for (const url of urlsIn(mirror.json())) assert.ok(url.startsWith(`${proxy.url}/opendepot/providers/v1/`), url);

  const location = (await viaProxy(`/opendepot/modules/v1/${NS}/terraform-aws-vpc/aws/1.0.0/download`)).header('x-terraform-get');
  assert.ok(location.startsWith(`${proxy.url}/opendepot/modules/v1/${NS}/terraform-aws-vpc/aws/1.0.0/archive.zip?`), location);
});

const mainTf = `terraform {
  required_providers {
    hello = {
      source  = "${HOST}/${NS}/hello"
      version = "1.0.0"
    }
  }
}

module "vpc" {
  source  = "${HOST}/${NS}/terraform-aws-vpc/aws"
  version = "1.0.0"
}
`;

for (const tool of ['tofu', 'terraform'] as const) {
  test(`${tool} init installs the module and the signed provider with only the proxy's URL`, async () => {
    const cliConfig = join(dir, `${tool}.tfrc`);
    await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${proxy.url}/opendepot/modules/v1/`, 'providers.v1': `${proxy.url}/opendepot/providers/v1/` }));
    const before = proxy.forwarded.length;
    const run = await runRegistryClient(tool, { parentDir: dir, cliConfig, caFile, mainTf });
    assert.is(run.code, 0, run.output);
    assert.match(run.output, /signed by a key|Installed .*hello v1\.0\.0/);
    const fetched = proxy.forwarded.slice(before);
    assert.ok(
      fetched.some((p) => p.startsWith(`${PREFIX}/opendepot/modules/v1/${NS}/terraform-aws-vpc/aws/1.0.0/archive.zip`)),
      fetched.join('\n'),
    );
    assert.ok(
      fetched.some((p) => p.startsWith(`${PREFIX}/opendepot/providers/v1/${NS}/hello/1.0.0/terraform-provider-hello_1.0.0_linux_amd64.zip`)),
      fetched.join('\n'),
    );
    assert.ok(
      fetched.some((p) => p.startsWith(`${PREFIX}/opendepot/providers/v1/${NS}/hello/1.0.0/SHA256SUMS.sig`)),
      fetched.join('\n'),
    );
  });
}

test('tofu installs from the network mirror through the proxy', async () => {
  const cliConfig = join(dir, 'mirror.tfrc');
  await writeFile(cliConfig, `provider_installation {\n  network_mirror {\n    url = "${proxy.url}/opendepot/mirror/v1/"\n  }\n}\n`);
  const before = proxy.forwarded.length;
  const run = await runRegistryClient('tofu', { parentDir: dir, cliConfig, caFile, mainTf: 'terraform {\n  required_providers {\n    hello = {\n      source = "hashicorp/hello"\n    }\n  }\n}\n' });
  assert.is(run.code, 0, run.output);
  assert.ok(proxy.forwarded.slice(before).some((p) => p.startsWith(`${PREFIX}/opendepot/providers/v1/${NS}/hello/1.0.0/terraform-provider-hello_1.0.0_linux_amd64.zip`)));
});

test.run();
