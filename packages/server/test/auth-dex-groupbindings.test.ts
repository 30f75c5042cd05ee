/**
 * OIDC through `@opendepot/plugin-dex` with GroupBindings deciding, through `startServer`, against
 * real Dex and the real kube-apiserver: a token from the authorization-code flow reads what the
 * GroupBindings of a namespace grant its groups, nothing in another namespace, nothing an invalid
 * binding names; a binding changed in the API server takes effect without a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig } from '@opendepot/core';
import { dexAccessToken, dropNamespace, freshNamespace, kubectlOk, startDex, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { startServer, type RunningServer } from '../src/index.ts';

const CLIENT = 'opendepot-cli';
const cp = await useControlPlane();
const teamA = await freshNamespace(cp, 'auth-dex-a');
const teamB = await freshNamespace(cp, 'auth-dex-b');
const dex = await startDex({
  users: [
    { email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team'] },
    { email: 'bob@example.com', username: 'bob', groups: ['gcp-team'] },
  ],
  clients: [{ id: CLIENT, public: true }],
});
let dir: string;
let server: RunningServer;
let alice: string;
let bob: string;
const logs: Record<string, unknown>[] = [];

const k = (args: string[], input?: string): Promise<string> => kubectlOk(cp, args, input);

const apply = (obj: unknown) => k(['apply', '-f', '-'], JSON.stringify(obj));
const moduleManifest = (namespace: string, name: string) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name, namespace },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl: `https://github.com/example/${name}` }, versions: [{ version: '1.0.0' }] },
});
const binding = (namespace: string, name: string, expression: string, moduleResources: string[]) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'GroupBinding',
  metadata: { name, namespace },
  spec: { expression, moduleResources, providerResources: ['aws'] },
});

function login(email: string, port: number): Promise<string> {
  return dexAccessToken(dex.endpoints, { clientId: CLIENT, login: email, port });
}

const versionsOf = (namespace: string, name: string, bearer?: string) =>
  fetch(`${server.listening.url}/opendepot/modules/v1/${namespace}/${name}/aws/versions`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-auth-dex-'));
  for (const name of ['terraform-aws-vpc', 'terraform-gcp-net']) await apply(moduleManifest(teamA, name));
  await apply(moduleManifest(teamB, 'terraform-aws-vpc'));
  // The announcement's binding, in team A only; team B has only a hostile one.
  await apply(binding(teamA, 'aws-platform', '"aws-platform-team" in groups', ['terraform-aws-*']));
  await apply(binding(teamB, 'hostile', 'constructor.constructor("return process")()', ['*']));
  const config = parseConfig(
    stringify({
      namespace: teamA,
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-dex', config: { issuerUrl: dex.issuer, clientId: CLIENT } }],
      storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: join(dir, 'storage') } } } },
      server: { port: 0, metricsPort: 0, host: '127.0.0.1' },
      auth: { anonymous: { enabled: false } },
    }),
    { env: {} },
  ).config;
  server = await startServer({ config, kubeconfigPath: cp.kubeconfigPath, logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } }) });
  await server.synced;
  alice = await login('alice@example.com', 10001);
  bob = await login('bob@example.com', 10002);
});

test.after(async () => {
  await server?.stop();
  await dex.stop();
  await dropNamespace(cp, teamA);
  await dropNamespace(cp, teamB);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('discovery is public and advertises login.v1 from Dex; no token is a 401', async () => {
  const discovery = (await (await fetch(`${server.listening.url}/.well-known/terraform.json`)).json()) as { 'login.v1'?: { client: string; authz: string; token: string; scopes?: string[] } };
  assert.is(discovery['login.v1']?.client, CLIENT);
  assert.is(discovery['login.v1']?.authz, dex.endpoints.authz);
  assert.ok(discovery['login.v1']?.scopes?.includes('groups'));
  const res = await versionsOf(teamA, 'terraform-aws-vpc');
  assert.is(res.status, 401);
  assert.is(res.headers.get('www-authenticate'), 'Bearer');
});

test('a member of aws-platform-team reads terraform-aws-* of the namespace whose binding grants it, and nothing else', async () => {
  assert.is((await versionsOf(teamA, 'terraform-aws-vpc', alice)).status, 200);
  const gcp = await versionsOf(teamA, 'terraform-gcp-net', alice);
  assert.is(gcp.status, 403);
  assert.match(await gcp.text(), `${teamA}/terraform-gcp-net`);
  // The same name in another namespace: team A's binding grants nothing there, and team B's is invalid.
  assert.is((await versionsOf(teamB, 'terraform-aws-vpc', alice)).status, 403);
});

test('a user outside the group is refused; a forged token is a 401', async () => {
  assert.is((await versionsOf(teamA, 'terraform-aws-vpc', bob)).status, 403);
  const [header, payload, signature] = alice.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, groups: ['gcp-team', 'aws-platform-team'] })).toString('base64url')}.${signature}`;
  assert.is((await versionsOf(teamA, 'terraform-aws-vpc', forged)).status, 401);
});

test('a binding changed in the API server takes effect without a restart', async () => {
  await apply(binding(teamA, 'gcp', '"gcp-team" in groups', ['terraform-gcp-*']));
  await eventually('bob reads terraform-gcp-net', async () => (await versionsOf(teamA, 'terraform-gcp-net', bob)).status === 200);
  assert.is((await versionsOf(teamA, 'terraform-aws-vpc', bob)).status, 403);
  await k(['delete', 'groupbinding', 'gcp', '-n', teamA]);
  await eventually('bob is refused again', async () => (await versionsOf(teamA, 'terraform-gcp-net', bob)).status === 403);
});

test('no token reaches the log', () => {
  const text = JSON.stringify(logs);
  assert.not.ok(text.includes(alice.split('.')[2]!), 'no signature of a token is logged');
  assert.ok(
    logs.some((l) => l.msg === 'group binding decision' && l.allowed === false),
    'the GroupBinding decisions are logged',
  );
});

test.run();
