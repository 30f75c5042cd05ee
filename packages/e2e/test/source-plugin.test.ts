/**
 * A third-party archive source end to end, all real: the operator loads
 * `@opendepot-example/source-https-dir` (examples/source-plugin, written only against
 * `@opendepot/sdk`) from configuration by its package name; a Module naming it becomes Ready from a
 * loopback HTTPS directory of tarballs, and the real `tofu init` installs a version of it. With the
 * package taken out of `plugins:`, the Module goes Stalled, naming the source and the fix.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// The example plugin's own test helpers: the HTTPS directory server and the module it serves.
import { startDirectoryServer, type DirectoryServer } from '../../../examples/source-plugin/test/support/directory-server.ts';
import { serveVpc } from '../../../examples/source-plugin/test/support/fixture.ts';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { ready, type Condition, type Obj } from './support/resources.ts';

const PLUGIN = '@opendepot-example/source-https-dir';
const VERSIONS = ['1.0.0', '1.1.0', '2.0.0'];

let directory: DirectoryServer;
let env: RegistryEnv;
let scratch: string;

test.before(async () => {
  directory = await startDirectoryServer();
  serveVpc(directory);
  // The directory server's certificate is from a private CA, which the plugin trusts through caFile.
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-e2e-https-dir-'));
  const caFile = join(scratch, 'directory-ca.pem');
  await writeFile(caFile, directory.caPem);
  env = await startRegistryEnv({
    config: { plugins: [{ package: '@opendepot/plugin-fs' }, { package: PLUGIN, config: { baseUrl: directory.url, caFile } }] },
  });
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'vpc' },
    spec: {
      moduleConfig: { name: 'vpc', provider: 'aws', repoOwner: 'acme', source: 'https-dir', fileFormat: 'tar.gz' },
      versions: VERSIONS.map((version) => ({ version })),
    },
  });
});

test.after(async () => {
  await env?.stop();
  await directory?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('the operator loads the source by its package name', () => {
  const loaded = env.logs.filter((l) => l.msg === 'plugin loaded' && l.package === PLUGIN);
  assert.ok(loaded.length >= 1, JSON.stringify(loaded));
  for (const line of loaded) {
    assert.is(line.kind, 'archive-source');
    assert.is(line.name, 'https-dir');
    assert.is(line.configPath, 'plugins[1]');
  }
});

test('a Module naming the source becomes Ready, each version fetched from <name>-<ref>.tar.gz', async () => {
  const module = await eventually(
    'Module vpc Ready',
    async () => {
      const m = await env.get<Obj>('module', 'vpc');
      return ready(m) ? m : undefined;
    },
    90_000,
  );
  assert.is(module.status?.progress, '3/3');
  for (const file of ['vpc-v1.0.0.tar.gz', 'vpc-1.1.0.tar.gz', 'vpc-v2.0.0.tar.gz']) {
    assert.ok(directory.requests.includes(`/acme/vpc/${file}`), `fetched ${file}; requests: ${directory.requests.join(', ')}`);
  }
});

test('tofu init installs 1.1.0 for "~> 1.1.0" from what the source fetched', async () => {
  const run = await env.client('tofu', `module "vpc" {\n  source  = "${HOST}/${env.namespace}/vpc/aws"\n  version = "~> 1.1.0"\n}\n`);
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === 'vpc');
  assert.is(entry?.Version, '1.1.0');
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), '1.1.0 from the https-dir source');
});

test('with the package taken out of plugins:, the Module is Stalled, naming the source and the fix', async () => {
  await env.restartOperator({ plugins: [{ package: '@opendepot/plugin-fs' }] });
  // Touch it, so the new operator reconciles it at once.
  await env.kubectl(['annotate', '-n', env.namespace, 'module', 'vpc', '--overwrite', `e2e.opendepot.test/touched=${Date.now()}`]);
  const stalled = await eventually(
    'Module vpc Stalled',
    async () => {
      const m = await env.get<Obj>('module', 'vpc');
      return m.status?.conditions?.find((c: Condition) => c.type === 'Stalled' && c.status === 'True');
    },
    60_000,
  );
  console.log(`    Stalled: ${stalled.message}`);
  assert.is(stalled.reason, 'InvalidSpec');
  assert.match(stalled.message, 'spec.moduleConfig.source "https-dir" names no configured archive source');
  assert.match(stalled.message, /add the plugin that provides "https-dir" to plugins:/);
});

test.run();
