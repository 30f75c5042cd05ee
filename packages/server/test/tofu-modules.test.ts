/**
 * The real clients against the server over HTTPS: `tofu init` (OpenTofu 1.12) and
 * `terraform init` (Terraform 1.5.7) resolve `~> 1.2.0` among 1.1.0, 1.2.0, 1.2.5 and 1.3.0 and
 * install 1.2.5, from a zip module and a tar.gz module. A tampered archive makes init fail, and
 * an unknown module gives the client's "Module not found".
 *
 * Offline recipe of protocol.md §8: a CLI config `host` block maps opendepot.test to the
 * server (no discovery, no DNS), SSL_CERT_FILE trusts the test CA, HOME is a temporary directory.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Module } from '@opendepot/core';
import { cliConfigText, createTestCertificates, runRegistryClient, type ClientRun } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRegistryServer, type ListeningServer, type RegistryServer } from '../src/index.ts';
import { DiskStorage } from './support/disk-storage.ts';
import { moduleKey, moduleResource, NS, store, versionResource } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';

const execFileAsync = promisify(execFile);
const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];
const HOST = 'opendepot.test';

const network = moduleResource({ name: 'network', provider: 'aws' }); // stored as zip
const cluster = moduleResource({ name: 'cluster', provider: 'aws' }); // stored as tar.gz

let dir: string;
let storage: DiskStorage;
let registry: RegistryServer;
let listening: ListeningServer;
let cliConfig: string;
let caFile: string;
const logLines: Record<string, unknown>[] = [];

/** Packs a one-file module whose output says its version, as zip or tar.gz (module at the root). */
async function packModule(version: string, format: 'zip' | 'tar.gz'): Promise<Buffer> {
  const src = join(dir, 'src', `${format}-${version}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'main.tf'), `output "version" {\n  value = "${version}"\n}\n`);
  const out = join(dir, 'src', `${format}-${version}.${format}`);
  if (format === 'zip') await execFileAsync('zip', ['-q', '-X', '-r', out, '.'], { cwd: src });
  else await execFileAsync('tar', ['-czf', out, '-C', src, '.']);
  return readFile(out);
}

async function putModule(informers: { modules: MemoryInformer<Module>; versions: MemoryInformer<import('@opendepot/core').Version> }, module: Module, format: 'zip' | 'tar.gz') {
  informers.modules.put(module);
  for (const version of VERSIONS) {
    const stored = await store(storage, moduleKey(module, version, format), await packModule(version, format));
    informers.versions.put(versionResource({ owner: module, version, stored, fileFormat: format }));
  }
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-tofu-'));
  storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<import('@opendepot/core').Version>();
  await putModule({ modules, versions }, network, 'zip');
  await putModule({ modules, versions }, cluster, 'tar.gz');

  const certs = await createTestCertificates();
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);

  const { createLogger } = await import('@opendepot/core');
  registry = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: async () => storage,
    logger: createLogger({ destination: { write: (line: string) => logLines.push(JSON.parse(line)) } }),
    defaultMetrics: false,
  });
  listening = await registry.listen({
    port: 0,
    host: '127.0.0.1',
    tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
    closeGraceMs: 100,
  });
  cliConfig = join(dir, 'cli.tfrc');
  await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${listening.url}/opendepot/modules/v1/` }));
});

test.after(async () => {
  registry?.dispose();
  await listening?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type InitResult = ClientRun;

/** Runs `<tool> init` in a fresh directory with the given main.tf. */
function init(tool: 'tofu' | 'terraform', mainTf: string): Promise<InitResult> {
  return runRegistryClient(tool, { parentDir: dir, cliConfig, caFile, mainTf });
}

const twoModules = `
module "network" {
  source  = "${HOST}/${NS}/network/aws"
  version = "~> 1.2.0"
}

module "cluster" {
  source  = "${HOST}/${NS}/cluster/aws"
  version = "~> 1.2.0"
}
`;

interface ModulesJson {
  Modules: { Key: string; Source: string; Version?: string; Dir: string }[];
}

async function assertInstalled(result: InitResult): Promise<void> {
  assert.is(result.code, 0, result.output);
  const manifest = JSON.parse(await readFile(join(result.workdir, '.terraform/modules/modules.json'), 'utf8')) as ModulesJson;
  for (const key of ['network', 'cluster']) {
    const entry = manifest.Modules.find((m) => m.Key === key);
    assert.ok(entry, `${key} is in modules.json: ${JSON.stringify(manifest)}`);
    assert.is(entry.Version, '1.2.5', key);
    assert.is(entry.Source, `${HOST}/${NS}/${key}/aws`);
    // The unpacked module is the 1.2.5 archive's content.
    assert.match(await readFile(join(result.workdir, entry.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
  }
}

test('tofu init installs 1.2.5 for "~> 1.2.0" from a zip and a tar.gz module', async () => {
  const result = await init('tofu', twoModules);
  await assertInstalled(result);
  assert.match(result.output, `Downloading ${HOST}/${NS}/network/aws 1.2.5 for network...`);
});

test('terraform 1.5.7 init installs 1.2.5 for "~> 1.2.0" from a zip and a tar.gz module', async () => {
  const result = await init('terraform', twoModules);
  await assertInstalled(result);
  assert.match(result.output, `Downloading ${HOST}/${NS}/cluster/aws 1.2.5 for cluster...`);
});

test('each client listed versions and got a download location; every archive GET was verified', () => {
  const requests = logLines.filter((l) => l.msg === 'request');
  for (const agent of [/OpenTofu/, /Terraform/]) {
    const mine = requests.filter((l) => agent.test(String(l.userAgent ?? '')));
    assert.ok(
      mine.some((l) => l.route === 'modules.versions' && l.status === 200),
      `${agent} listed versions`,
    );
    assert.ok(
      mine.some((l) => l.route === 'modules.download' && l.status === 204),
      `${agent} got the 204 download answer`,
    );
  }
  const archives = requests.filter((l) => l.route === 'modules.archive' && l.method === 'GET');
  assert.is(archives.length, 4, JSON.stringify(archives));
  assert.ok(
    archives.every((l) => l.status === 200 && l.outcome === 'verified'),
    JSON.stringify(archives),
  );
});

test('an unknown module gives the client its "Module not found" error', async () => {
  const result = await init('tofu', `module "nope" {\n  source  = "${HOST}/${NS}/nope/aws"\n  version = "~> 1.0"\n}\n`);
  assert.is.not(result.code, 0);
  assert.match(result.output, 'Module not found');
});

test('a tampered stored archive makes init fail instead of installing wrong bytes', async () => {
  const key = moduleKey(network, '1.2.5');
  const original = await readFile(storage.path(key));
  const tampered = Buffer.from(original);
  // Same size, one byte flipped near the end: only hashing the stream can tell.
  tampered[tampered.length - 30] = tampered[tampered.length - 30]! ^ 0x01;
  await writeFile(storage.path(key), tampered);
  try {
    for (const tool of ['tofu', 'terraform'] as const) {
      const result = await init(tool, `module "network" {\n  source  = "${HOST}/${NS}/network/aws"\n  version = "1.2.5"\n}\n`);
      assert.is.not(result.code, 0, `${tool} must fail: ${result.output}`);
      assert.match(result.output, /Failed to download module/, result.output);
      const manifest = await readFile(join(result.workdir, '.terraform/modules/modules.json'), 'utf8').catch(() => '{"Modules":[]}');
      assert.not.match(manifest, '"Key":"network"', `${tool} recorded no network module`);
    }
  } finally {
    await writeFile(storage.path(key), original);
  }
});

test.run();
