/**
 * The real clients against a registry that requires Kubernetes credentials (real kube-apiserver):
 * with a ServiceAccount token in `TF_TOKEN_<host>`, `tofu init` (and Terraform 1.5.7) install the
 * Module and the signed Provider its Role allows, fetching the archives through the signed download
 * URLs (the clients send no token there); the Module it is not granted fails, and without a token
 * nothing is installed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createKubeClient, createLogger, type Module, type Version } from '@opendepot/core';
import { cliConfigText, type ClientRun, createSigningKey, createTestCertificates, dropNamespace, freshNamespace, kubectlOk, runRegistryClient, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRegistryServer, kubernetesProvider, signingKeyOf, type ListeningServer, type RegistryServer } from '../src/index.ts';
import { DiskStorage } from './support/disk-storage.ts';
import { moduleKey, moduleResource, store, versionResource } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

const execFileAsync = promisify(execFile);
const HOST = 'opendepot.test';
const TOKEN_ENV = 'TF_TOKEN_opendepot_test';
const AUDIENCE = 'opendepot-registry';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'auth-tofu');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, userAgent: 'opendepot-test' });
let dir: string;
let registry: RegistryServer;
let listening: ListeningServer;
let cliConfig: string;
let caFile: string;
let token: string;
const logLines: Record<string, unknown>[] = [];

const k = (args: string[], input?: string): Promise<string> => kubectlOk(cp, args, input);

async function packModule(name: string): Promise<Buffer> {
  const src = join(dir, 'src', name);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'main.tf'), `output "name" {\n  value = "${name}"\n}\n`);
  const out = join(dir, 'src', `${name}.zip`);
  await execFileAsync('zip', ['-q', '-X', '-r', out, '.'], { cwd: src });
  return readFile(out);
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-auth-tofu-'));
  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  for (const name of ['foo', 'bar']) {
    const module = moduleResource({ name, namespace: ns, provider: 'aws' });
    modules.put(module);
    versions.put(versionResource({ owner: module, version: '1.0.0', stored: await store(storage, moduleKey(module, '1.0.0'), await packModule(name)) }));
  }
  const [os, arch] = [process.platform === 'darwin' ? 'darwin' : 'linux', process.arch === 'arm64' ? 'arm64' : 'amd64'];
  const pkg = await providerPackage('hello', '1.0.0', os, arch);
  versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os, arch, namespace: ns, stored: await storeProvider(storage, ns, pkg) }));

  await k(['create', 'serviceaccount', 'ci', '-n', ns]);
  await k(['create', 'role', 'registry-reader', '-n', ns, '--verb=get', '--resource=modules.opendepot.defdev.io', '--resource-name=foo']);
  await k(['create', 'role', 'provider-reader', '-n', ns, '--verb=get', '--resource=providers.opendepot.defdev.io', '--resource-name=hello']);
  await k(['create', 'rolebinding', 'ci-modules', '-n', ns, '--role=registry-reader', `--serviceaccount=${ns}:ci`]);
  await k(['create', 'rolebinding', 'ci-providers', '-n', ns, '--role=provider-reader', `--serviceaccount=${ns}:ci`]);
  token = (await k(['create', 'token', 'ci', '-n', ns, '--audience', AUDIENCE, '--duration', '1h'])).trim();

  const certs = await createTestCertificates();
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);
  const signingKey = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Auth Tofu Test' })).privateKeyArmored);
  registry = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: async () => storage,
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => logLines.push(JSON.parse(line)) } }),
    defaultMetrics: false,
    signingKey,
    auth: {
      providers: [
        {
          name: 'kubernetes',
          provider: kubernetesProvider({
            client,
            audiences: [AUDIENCE],
            cacheTtlSeconds: 10,
            cacheMaxEntries: 1000,
            onCache: (cache, result) => registry.metrics.authCacheLookups.inc({ cache, result }),
          }),
        },
      ],
    },
  });
  listening = await registry.listen({ port: 0, host: '127.0.0.1', tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, closeGraceMs: 100 });
  cliConfig = join(dir, 'cli.tfrc');
  await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${listening.url}/opendepot/modules/v1/`, 'providers.v1': `${listening.url}/opendepot/providers/v1/` }));
});

test.after(async () => {
  registry?.dispose();
  await listening?.close();
  await client.close();
  await dropNamespace(cp, ns, ['roles', 'rolebindings', 'serviceaccounts']);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function init(tool: 'tofu' | 'terraform', mainTf: string, withToken: boolean): Promise<ClientRun> {
  return runRegistryClient(tool, { parentDir: dir, cliConfig, caFile, mainTf, ...(withToken && { env: { [TOKEN_ENV]: token } }) });
}

const fooAndHello = () => `
terraform {
  required_providers {
    hello = {
      source  = "${HOST}/${ns}/hello"
      version = "1.0.0"
    }
  }
}

module "foo" {
  source  = "${HOST}/${ns}/foo/aws"
  version = "1.0.0"
}
`;

async function assertInstalled(result: ClientRun): Promise<void> {
  assert.is(result.code, 0, result.output);
  const manifest = JSON.parse(await readFile(join(result.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Dir: string; Version?: string }[] };
  const foo = manifest.Modules.find((m) => m.Key === 'foo');
  assert.is(foo?.Version, '1.0.0');
  assert.match(await readFile(join(result.workdir, foo!.Dir, 'main.tf'), 'utf8'), 'value = "foo"');
  assert.match(result.output, /Installed .*hello v1\.0\.0 \((self-)?signed, key ID/);
}

test('tofu init with a ServiceAccount token in TF_TOKEN_<host> installs the granted module and provider', async () => {
  const before = logLines.length;
  const result = await init('tofu', fooAndHello(), true);
  await assertInstalled(result);
  const decisions = logLines.slice(before).filter((l) => l.msg === 'access decision');
  // The archive and package were fetched without the token, through their signed URLs.
  assert.ok(decisions.some((l) => l.decision === 'allow' && String(l.reason).startsWith('signed download URL for module:')), JSON.stringify(decisions));
  assert.ok(decisions.some((l) => l.decision === 'allow' && String(l.reason).startsWith('signed download URL for provider:')), JSON.stringify(decisions));
  assert.ok(decisions.some((l) => l.decision === 'allow' && l.subject === `system:serviceaccount:${ns}:ci` && l.resource === `Module ${ns}/foo`));
  assert.not.ok(JSON.stringify(logLines).includes(token), 'the token is never logged');
});

test('terraform 1.5.7 init with the same token installs them too', async () => {
  await assertInstalled(await init('terraform', fooAndHello(), true));
});

test('the module the token is not granted fails init, and so does everything without a token', async () => {
  const bar = await init('tofu', `module "bar" {\n  source  = "${HOST}/${ns}/bar/aws"\n  version = "1.0.0"\n}\n`, true);
  assert.is.not(bar.code, 0, bar.output);
  assert.match(bar.output, /403/);
  const anonymous = await init('tofu', fooAndHello(), false);
  assert.is.not(anonymous.code, 0, anonymous.output);
  assert.match(anonymous.output, /401/);
});

test.run();
