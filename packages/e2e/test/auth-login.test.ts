/**
 * Access control end to end, all real (issue 11): the operator and the server against the real
 * kube-apiserver, HTTPS with a test CA, anonymous access off, `@opendepot/plugin-dex` against a
 * real Dex whose user alice is in `aws-platform-team`, and the announcement's GroupBinding
 * (`"aws-platform-team" in groups` → `terraform-aws-*` modules and the `aws` provider).
 *
 * For the real `tofu` and Terraform 1.5.7: `<cli> login 127.0.0.1:<port>` reads `login.v1` from
 * the registry's own discovery document (no CLI-config `host` block), the test bed plays the
 * browser through Dex's login form, and then `<cli> init`, with the stored token, installs a
 * `terraform-aws-*` module and the `aws` provider (signed by the registry) through providers.v1,
 * while a `terraform-gcp-*` module is refused with a message naming it.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cliLogin,
  createGitRepo,
  dexAccessToken,
  createSigningKey,
  DEX_DEMO_PASSWORD,
  freePort,
  runRegistryClient,
  startDex,
  startHashicorpReleasesStandin,
  trustCaInProcess,
  type ClientRun,
  type Dex,
  type HashicorpReleasesStandin,
  type SigningKey,
} from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { moduleFiles, oneVersionModule, ready, type Obj } from './support/resources.ts';

const CLIENT = 'opendepot-cli';
const ALICE = { login: 'alice@example.com', password: DEX_DEMO_PASSWORD };
const AWS_MODULE = 'terraform-aws-key-pair';
const GCP_MODULE = 'terraform-gcp-network';
const PROVIDER_VERSION = '5.80.0';
const OS = process.platform === 'darwin' ? 'darwin' : 'linux';
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

let dex: Dex;
let releases: HashicorpReleasesStandin;
let registryKey: SigningKey;
let env: RegistryEnv;
/** The registry as the clients name it: `127.0.0.1:<port>`, found through its own discovery. */
let host: string;

test.before(async () => {
  dex = await startDex({ users: [{ email: ALICE.login, username: 'alice', groups: ['aws-platform-team'] }], clients: [{ id: CLIENT, public: true }] });
  const upstreamKey = await createSigningKey({ name: 'Upstream publisher' });
  registryKey = await createSigningKey({ name: 'OpenDepot registry' });
  releases = await startHashicorpReleasesStandin({ signingKey: upstreamKey });
  await releases.addRelease('terraform-provider-aws', PROVIDER_VERSION, { platforms: [{ os: OS, arch: ARCH }] });
  // The CLIs listen for the redirect on a port of [min, max - 1]: one port, free a moment ago,
  // rather than a fixed range that another test on this machine may be using.
  const loginPort = await freePort();
  env = await startRegistryEnv({
    config: {
      plugins: [
        { package: '@opendepot/plugin-fs' },
        // `kind: auth`: the operator skips it (it authenticates nobody).
        { package: '@opendepot/plugin-dex', kind: 'auth', config: { issuerUrl: dex.issuer, clientId: CLIENT, loginPorts: [loginPort, loginPort + 1] } },
      ],
      auth: { anonymous: { enabled: false } },
      operator: { providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [upstreamKey.publicKeyArmored], allowInsecureHttp: true } },
    },
    files: { 'registry-key.asc': registryKey.privateKeyArmored },
    serverConfig: (dir) => ({ gpg: { privateKeyFile: join(dir, 'registry-key.asc') } }),
  });
  host = new URL(env.server.listening.url).host;
  const awsRepo = await createGitRepo(join(env.dir, 'aws-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'aws') } });
  const gcpRepo = await createGitRepo(join(env.dir, 'gcp-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'gcp') } });
  await env.apply(
    oneVersionModule(AWS_MODULE, 'aws', awsRepo.url),
    oneVersionModule(GCP_MODULE, 'google', gcpRepo.url),
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Provider',
      metadata: { name: 'aws' },
      spec: { providerConfig: { name: 'aws', operatingSystems: [OS], architectures: [ARCH] }, versions: [{ version: PROVIDER_VERSION }] },
    },
    // The announcement's GroupBinding, unchanged.
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'GroupBinding',
      metadata: { name: '01-aws-platform-team' },
      spec: { expression: '"aws-platform-team" in groups', moduleResources: ['terraform-aws-*'], providerResources: ['aws'] },
    },
  );
  for (const kind of ['module', 'provider']) {
    for (const name of kind === 'module' ? [AWS_MODULE, GCP_MODULE] : ['aws']) {
      await eventually(`${kind} ${name} Ready`, async () => ready(await env.get<Obj>(kind, name)), 180_000);
    }
  }
});

test.after(async () => {
  await env?.stop();
  await releases?.close();
  await dex?.stop();
});

const awsModuleAndProvider = () => `
terraform {
  required_providers {
    aws = {
      source  = "${host}/${env.namespace}/aws"
      version = "~> 5.80"
    }
  }
}

module "key_pair" {
  source  = "${host}/${env.namespace}/${AWS_MODULE}/aws"
  version = "~> 1.0"
}
`;
const gcpModule = () => `module "network" {\n  source  = "${host}/${env.namespace}/${GCP_MODULE}/google"\n  version = "1.0.0"\n}\n`;

/** `init` as the user: the CLI's own config files under `home` (and so the token `login` stored there), no `TF_CLI_CONFIG_FILE`. */
const init = (tool: 'tofu' | 'terraform', home: string, mainTf: string): Promise<ClientRun> => runRegistryClient(tool, { parentDir: env.dir, caFile: env.caFile, home, mainTf });

/** A HOME with only `provider_installation { direct {} }` in its CLI config (read by both CLIs as `~/.terraformrc`). */
async function freshHome(tool: string): Promise<string> {
  const home = await mkdtemp(join(env.dir, `${tool}-home-`));
  await writeFile(join(home, '.terraformrc'), 'provider_installation {\n  direct {}\n}\n');
  return home;
}

test('anonymous access is off: without a token init is refused', async () => {
  const anonymous = await init('tofu', await freshHome('anonymous'), awsModuleAndProvider());
  assert.is.not(anonymous.code, 0, anonymous.output);
  assert.match(anonymous.output, /401/);
});

for (const tool of ['tofu', 'terraform'] as const) {
  test(`${tool} login <registry> (login.v1 from its discovery) through Dex, then init installs ${AWS_MODULE} and the signed aws provider; ${GCP_MODULE} is refused`, async () => {
    const home = await freshHome(tool);
    const before = env.logs.length;
    const login = await cliLogin(tool, host, { home, credentials: ALICE, env: { SSL_CERT_FILE: env.caFile }, timeoutMs: 120_000 });
    // login.v1 came from the registry's discovery: Dex's authorization endpoint, the configured client.
    assert.is(login.authorizationUrl.origin + login.authorizationUrl.pathname, dex.endpoints.authz);
    assert.is(login.authorizationUrl.searchParams.get('client_id'), CLIENT);
    // Terraform 1.5.7 may close its listener before answering, having taken the code (cliLogin checked the stored token).
    if (tool === 'tofu' || login.callbackStatus !== undefined) assert.is(login.callbackStatus, 200, login.output);

    const run = await init(tool, home, awsModuleAndProvider());
    assert.is(run.code, 0, run.output);
    const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Dir: string; Version?: string }[] };
    const keyPair = manifest.Modules.find((m) => m.Key === 'key_pair');
    assert.is(keyPair?.Version, '1.0.0', run.output);
    assert.match(await readFile(join(run.workdir, keyPair!.Dir, 'main.tf'), 'utf8'), 'value = "1.0.0"');
    // The client checked SHA256SUMS.sig against the key the registry served, and names it.
    assert.match(run.output, new RegExp(`Installed .*aws v${PROVIDER_VERSION.replaceAll('.', '\\.')} \\(.*key ID ${registryKey.keyId}\\)`), run.output);

    const refused = await init(tool, home, gcpModule());
    assert.is.not(refused.code, 0, refused.output);
    // The client prints the status line, whose reason phrase names the Module refused.
    // (The CLIs wrap their diagnostics at 78 columns.)
    assert.ok(refused.output.replace(/\s+/g, ' ').includes(`403 Forbidden: access to Module ${env.namespace}/${GCP_MODULE} is not granted`), refused.output);

    // Alice, authenticated by the dex plugin, was allowed and refused by the GroupBinding.
    const decisions = env.logs.slice(before).filter((l) => l.msg === 'access decision');
    const oidc = decisions.filter((l) => l.provider === 'dex' && l.subject !== 'unauthenticated');
    assert.ok(
      oidc.some((l) => l.decision === 'allow' && l.reason === 'granted by a GroupBinding' && l.resource === `Module ${env.namespace}/${AWS_MODULE}`),
      JSON.stringify(decisions),
    );
    assert.ok(
      oidc.some((l) => l.decision === 'allow' && l.resource === `Provider ${env.namespace}/aws`),
      JSON.stringify(decisions),
    );
    assert.ok(
      oidc.some((l) => l.decision === 'deny' && l.resource === `Module ${env.namespace}/${GCP_MODULE}`),
      JSON.stringify(decisions),
    );
    assert.not.ok(JSON.stringify(env.logs).includes(login.token.split('.')[2]!), 'no token reaches the log');
  });
}

test('the browse API with a Dex token: alice lists only what her GroupBinding grants; a module she may not read is a 404 like one that does not exist; without a token the UI asks to sign in', async () => {
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  const token = await dexAccessToken(dex.endpoints, { clientId: CLIENT, login: ALICE.login, password: ALICE.password });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${env.server.listening.url}${path}`, { headers, redirect: 'manual' });
  const bearer = { Authorization: `Bearer ${token}` };
  const list = (await (await get('/opendepot/api/v1/catalog', bearer)).json()) as { items: { kind: string; resource: string }[] };
  assert.equal(
    list.items.map((i) => `${i.kind}/${i.resource}`),
    [`module/${AWS_MODULE}`, 'provider/aws'],
  );
  const refused = await get(`/opendepot/api/v1/modules/${env.namespace}/${GCP_MODULE}/google`, bearer);
  const missing = await get(`/opendepot/api/v1/modules/${env.namespace}/terraform-gcp-nothing/google`, bearer);
  assert.equal([refused.status, missing.status], [404, 404]);
  assert.is(await refused.text(), await missing.text(), 'the same answer whether it exists or not');
  assert.is((await get(`/ui/modules/${env.namespace}/${AWS_MODULE}/aws`, bearer)).status, 200);
  assert.is((await get('/opendepot/api/v1/catalog')).status, 401);
  const page = await get('/ui/');
  assert.is(page.status, 401);
  assert.match(await page.text(), /needs you to sign in/);
});

test.run();
