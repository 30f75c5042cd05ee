/**
 * The real clients against a registry that requires Kubernetes credentials (real kube-apiserver):
 * with a ServiceAccount token in `TF_TOKEN_<host>`, `tofu init` (and Terraform 1.5.7) install the
 * Module and the signed Provider its Role allows, fetching the archives through the signed download
 * URLs (the clients send no token there); the Module it is not granted fails, and without a token
 * nothing is installed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@opendepot/core';
import { createSigningKey, runRegistryClient, type ClientRun } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signingKeyOf, type ListeningServer, type RegistryServer } from '../src/index.ts';
import { KUBERNETES_AUTH_HOST as HOST, KUBERNETES_AUTH_TOKEN_ENV as TOKEN_ENV, startKubernetesAuthBed } from './support/kubernetes-auth.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

const AUDIENCE = 'opendepot-registry';

const bed = await startKubernetesAuthBed('auth-tofu');
const ns = bed.namespace;
let registry: RegistryServer;
let listening: ListeningServer;
let cliConfig: string;
let token: string;
const logLines: Record<string, unknown>[] = [];

test.before(async () => {
  for (const name of ['foo', 'bar']) await bed.addModule(name);
  const [os, arch] = [process.platform === 'darwin' ? 'darwin' : 'linux', process.arch === 'arm64' ? 'arm64' : 'amd64'];
  const pkg = await providerPackage('hello', '1.0.0', os, arch);
  bed.versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os, arch, namespace: ns, stored: await storeProvider(bed.storage, ns, pkg) }));
  token = await bed.serviceAccountToken({ modules: ['foo'], providers: ['hello'] }, AUDIENCE);

  const signingKey = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Auth Tofu Test' })).privateKeyArmored);
  registry = bed.registry(AUDIENCE, {
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => logLines.push(JSON.parse(line)) } }),
    signingKey,
    kubernetes: { cacheTtlSeconds: 10, cacheMaxEntries: 1000 },
  });
  listening = await registry.listen({ port: 0, host: '127.0.0.1', tls: bed.tls, closeGraceMs: 100 });
  cliConfig = await bed.cliConfig(listening);
});

test.after(async () => {
  registry?.dispose();
  await listening?.close();
  await bed.stop();
});

function init(tool: 'tofu' | 'terraform', mainTf: string, withToken: boolean): Promise<ClientRun> {
  return runRegistryClient(tool, { parentDir: bed.dir, cliConfig, caFile: bed.caFile, mainTf, ...(withToken && { env: { [TOKEN_ENV]: token } }) });
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
  assert.ok(
    decisions.some((l) => l.decision === 'allow' && String(l.reason).startsWith('signed download URL for module:')),
    JSON.stringify(decisions),
  );
  assert.ok(
    decisions.some((l) => l.decision === 'allow' && String(l.reason).startsWith('signed download URL for provider:')),
    JSON.stringify(decisions),
  );
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
