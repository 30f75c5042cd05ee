/**
 * A third-party storage plugin end to end, all real: the operator and the server load
 * `@opendepot-example/storage-webdav` (examples/storage-plugin, written only against
 * `@opendepot/sdk`) from configuration by its package name; a Module stored with it on a real
 * WebDAV server (the `webdav-server` package, in its own process) becomes Ready, and the real
 * `tofu init` downloads from it. A `storageConfig.webdav.url` other than its storage profile's stalls its Module, naming the field.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGitRepo, type RepoFiles } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// The example plugin's own test helpers: a real WebDAV server, and a proxy that records requests.
import { startFaultyProxy, type FaultyProxy } from '../../../examples/storage-plugin/test/support/proxy.ts';
import { startWebDavServer, type RunningWebDav } from '../../../examples/storage-plugin/test/support/webdav.ts';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Obj } from './support/resources.ts';

const PLUGIN = '@opendepot-example/storage-webdav';
const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];

const moduleFiles = (version: string): RepoFiles => ({
  'main.tf': `output "version" {\n  value = "${version}"\n}\n`,
  'README.md': `# stored on WebDAV, ${version}\n`,
});
const ready = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

let dav: RunningWebDav;
let proxy: FaultyProxy;
let env: RegistryEnv;
let repoUrl: string;

const moduleObject = (name: string, storageConfig: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: {
    moduleConfig: { name, provider: 'aws', repoUrl, fileFormat: 'zip' },
    storageConfig,
    versions: VERSIONS.map((version) => ({ version })),
  },
});

test.before(async () => {
  dav = await startWebDavServer();
  proxy = await startFaultyProxy(dav.url); // passes everything through, and records what it saw
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: PLUGIN }],
      // A third-party backend is a storage profile like any other; its url is the platform's.
      storage: { profiles: { webdav: { webdav: { url: `${proxy.url}registry/` } } } },
    },
  });
  repoUrl = (await createGitRepo(join(env.dir, 'vpc-repo'), { tags: Object.fromEntries(VERSIONS.map((v) => [`v${v}`, moduleFiles(v)])) })).url;
  await env.apply(
    moduleObject('vpc', { webdav: { url: `${proxy.url}registry/` } }),
    // A url of its own: where the plugin would send requests (and credentials) is not the resource's to say.
    moduleObject('misconfigured', { webdav: { url: 'http://127.0.0.1:9/elsewhere/' } }),
  );
});

test.after(async () => {
  await env?.stop();
  await proxy?.close();
  await dav?.stop();
});

test('the operator and then the server load the plugin by its package name', () => {
  // The operator starts (and loads its plugins) before the server: one line each, in that order.
  const loaded = env.logs.filter((l) => l.msg === 'plugin loaded' && l.package === PLUGIN);
  assert.is(loaded.length, 2, JSON.stringify(loaded));
  for (const line of loaded) {
    assert.is(line.kind, 'storage');
    assert.is(line.name, 'webdav');
    assert.is(line.configPath, 'plugins[1]');
    assert.is(line.version, '0.1.0');
  }
});

test('a Module stored on WebDAV becomes Ready; each archive is on the WebDAV server under its checksum', async () => {
  const module = await eventually(
    'Module vpc Ready',
    async () => {
      const m = await env.get<Obj>('module', 'vpc');
      return ready(m) ? m : undefined;
    },
    90_000,
  );
  assert.is(module.status?.progress, '4/4');
  const list = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', 'opendepot.defdev.io/owner-name=vpc', '-o', 'json']);
  const versions = (JSON.parse(list.stdout) as { items: Obj[] }).items;
  assert.is(versions.length, 4);
  for (const v of versions) {
    const { storageKey, checksum, size } = v.status ?? {};
    assert.ok(ready(v) && storageKey && checksum, `${v.metadata.name} is Ready with a storage key and checksum: ${JSON.stringify(v.status)}`);
    // The plugin's layout: <key>.odv/v<seq>-<time>-<id>-<sha256>-<size>.
    const dir = join(dav.root, 'registry', `${storageKey}.odv`);
    const [stored, ...others] = (await readdir(dir)).filter((f) => f.startsWith('v'));
    assert.is(others.length, 0, `one version of ${storageKey}`);
    assert.ok(stored!.endsWith(`-${checksum}-${size}`), `${stored} names the checksum and size`);
    const bytes = await readFile(join(dir, stored!));
    assert.is(createHash('sha256').update(bytes).digest('hex'), checksum, 'the stored bytes hash to the recorded checksum');
  }
  // Nothing of this Module went to the default filesystem storage.
  const onDisk = await readdir(env.storagePath, { recursive: true }).catch(() => [] as string[]);
  assert.not.ok(
    onDisk.some((path) => path.includes(versions[0]!.status!.storageKey!.split('/').slice(0, -1).join('/'))),
    onDisk.join(', '),
  );
});

test('tofu init installs 1.2.5 for "~> 1.2.0", downloaded from the WebDAV server', async () => {
  const before = proxy.seen.length;
  const run = await env.client('tofu', `module "vpc" {\n  source  = "${HOST}/${env.namespace}/vpc/aws"\n  version = "~> 1.2.0"\n}\n`);
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === 'vpc');
  assert.is(entry?.Version, '1.2.5');
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
  const downloads = proxy.seen.slice(before).filter((r) => r.startsWith('GET /registry/'));
  assert.ok(
    downloads.some((r) => r.includes('1.2.5')),
    `the server read 1.2.5 from WebDAV; requests seen: ${proxy.seen.slice(before).join(', ')}`,
  );
});

test('a Module whose webdav config names its own url is Stalled, with a message naming the field', async () => {
  const stalled = await eventually(
    'Module misconfigured Stalled',
    async () => {
      const m = await env.get<Obj>('module', 'misconfigured');
      return m.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    },
    60_000,
  );
  console.log(`    Stalled: ${stalled.message}`);
  assert.match(stalled.message, /spec\.storageConfig\.webdav\.url/, stalled.message);
  const module = await env.get<Obj>('module', 'misconfigured');
  assert.not.ok(ready(module));
});

test.run();
