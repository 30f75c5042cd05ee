/**
 * Storage is platform policy (issue 10 §1), end to end against the real kube-apiserver with the
 * operator and the server loading plugin-fs, plugin-s3 and plugin-azure. The platform's
 * profiles hold the accounts and Secrets; a Module that names its own `accountUrl`, `endpoint`,
 * `credentialsSecretRef` or a filesystem path outside the root is Stalled with a condition
 * naming the field, no Version is made, and the local listeners standing in for the attacker's
 * hosts see no connection at all. A path a profile lets teams choose still cannot leave the
 * root through a symlink.
 */
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createGitRepo } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { moduleFiles, ready, type Condition, type Obj } from './support/resources.ts';

const SUBSCRIPTION = '00000000-0000-4000-8000-000000000000';
const AZURE_ACCOUNT = { accountName: 'opendepotmodules', accountUrl: 'https://opendepotmodules.blob.core.windows.net', subscriptionID: SUBSCRIPTION, resourceGroup: 'opendepot-rg' };

/** A TCP listener on 127.0.0.2 that counts connections: an attacker's host. */
async function attackerHost(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { port: (server.address() as { port: number }).port, connections: () => count, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let env: RegistryEnv;
let attacker: Awaited<ReturnType<typeof attackerHost>>;
let teams: string;

const moduleObject = (name: string, storageConfig: Record<string, unknown>, repoUrl = 'https://github.com/my-org/terraform-aws-eks') => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl, fileFormat: 'zip', immutable: false }, storageConfig, versions: [{ version: '1.0.0' }] },
});

async function stalled(name: string): Promise<Condition> {
  return eventually(`Module ${name} Stalled`, async () => (await env.get<Obj>('module', name)).status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'));
}

async function versionsOf(name: string): Promise<Obj[]> {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
}

test.before(async () => {
  attacker = await attackerHost();
  // The teams profile's root exists before the hosts start (they refuse a profile they cannot use).
  teams = await mkdtemp(join(tmpdir(), 'opendepot-teams-'));
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }, { package: '@opendepot/plugin-azure' }],
      storage: {
        profiles: {
          aws: {
            s3: { bucket: 'my-org-opendepot-modules', region: 'us-west-2', credentialsSecretRef: { name: 'platform-s3' } },
            tenantSettable: { bucket: ['my-org-*'], region: ['us-west-2'] },
          },
          azure: { azureBlob: { ...AZURE_ACCOUNT, credentialsSecretRef: { name: 'platform-azure' } } },
          teams: { filesystem: { path: teams }, tenantSettable: { path: [`${teams}/*`] } },
        },
      },
    },
  });
  // The platform's credentials exist, so a config that got through would read and send them.
  for (const [name, literal] of [
    ['platform-s3', ['--from-literal=AWS_ACCESS_KEY_ID=AKIAPLATFORM', '--from-literal=AWS_SECRET_ACCESS_KEY=platform-secret']],
    ['platform-azure', ['--from-literal=AZURE_STORAGE_CONNECTION_STRING=AccountName=opendepotmodules;SharedAccessSignature=sv=2024-01-01&sig=platform-sas']],
  ] as const) {
    const r = await env.kubectl(['create', 'secret', 'generic', name, '-n', env.namespace, ...literal]);
    assert.is(r.code, 0, r.stderr);
  }
});

test.after(async () => {
  await env?.stop();
  await attacker?.close();
  await rm(teams, { recursive: true, force: true });
});

test("a Module's own accountUrl, endpoint or Secret is refused naming the field; no Version, no connection", async () => {
  const foreignAzure = `https://127.0.0.2:${attacker.port}/opendepotmodules`;
  const foreignS3 = `http://127.0.0.2:${attacker.port}`;
  await env.apply(
    // The announcement's Azure shape, with the account URL swapped for the attacker's.
    moduleObject('azure-steal', { azureBlob: { ...AZURE_ACCOUNT, accountUrl: foreignAzure } }),
    moduleObject('s3-steal', { s3: { bucket: 'my-org-opendepot-modules', region: 'us-west-2', endpoint: foreignS3, forcePathStyle: true } }),
    moduleObject('s3-other-secret', { profile: 'aws', s3: { bucket: 'my-org-team-a', region: 'us-west-2', credentialsSecretRef: { name: 'someone-elses-secret' } } }),
    moduleObject('s3-bucket-not-allowed', { s3: { bucket: 'another-org-bucket', region: 'us-west-2' } }),
  );
  const expected: Array<[string, string, RegExp]> = [
    ['azure-steal', 'spec.storageConfig.azureBlob.accountUrl', /set by the platform's storage profile azure/],
    ['s3-steal', 'spec.storageConfig.s3.endpoint', /set by the platform's storage profile aws/],
    ['s3-other-secret', 'spec.storageConfig.s3.credentialsSecretRef', /set by the platform's storage profile aws/],
    ['s3-bucket-not-allowed', 'spec.storageConfig.s3.bucket', /allows only values matching my-org-\*.*storage\.profiles\.aws\.tenantSettable\.bucket/],
  ];
  for (const [name, field, why] of expected) {
    const condition = await stalled(name);
    assert.is(condition.reason, 'InvalidSpec', condition.message);
    assert.ok(condition.message.startsWith(field), `${name}: ${condition.message}`);
    assert.match(condition.message, why);
    assert.equal(await versionsOf(name), [], `${name} made no Version`);
  }
  // The operator keeps running (no crash, no retry loop) and nothing reached the attacker.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.is(attacker.connections(), 0, 'no connection reached the foreign host');
  const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', 'involvedObject.name=azure-steal', '-o', 'json']);
  const reasons = (JSON.parse(events.stdout) as { items: { reason: string; count?: number }[] }).items;
  assert.ok(
    reasons.some((e) => e.reason === 'InvalidSpec'),
    'an InvalidSpec Event names the refusal',
  );
  assert.ok(
    reasons.every((e) => (e.count ?? 1) <= 2),
    `refused once, not retried: ${JSON.stringify(reasons)}`,
  );
});

test('a Version made directly with a foreign endpoint is refused by the Version controller too, naming the field', async () => {
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Version',
    metadata: { name: 'direct-steal-1.0.0' },
    spec: {
      kind: 'Module',
      ownerName: 'direct-steal',
      version: '1.0.0',
      fileFormat: 'zip',
      module: { name: 'direct-steal', provider: 'aws', repoUrl: 'https://github.com/my-org/terraform-aws-eks' },
      storageConfig: { s3: { bucket: 'my-org-opendepot-modules', region: 'us-west-2', endpoint: `http://127.0.0.2:${attacker.port}` } },
    },
  });
  const condition = await eventually('Version direct-steal-1.0.0 Stalled', async () =>
    (await env.get<Obj>('version', 'direct-steal-1.0.0')).status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'),
  );
  assert.is(condition.reason, 'InvalidSpec', condition.message);
  assert.ok(condition.message.startsWith('spec.storageConfig.s3.endpoint'), condition.message);
  assert.is(attacker.connections(), 0, 'no connection reached the foreign host');
});

test('a filesystem path outside the root is refused naming the field; nothing is written there', async () => {
  const outside = join(env.dir, 'outside');
  await mkdir(outside);
  await env.apply(moduleObject('fs-outside', { filesystem: { path: outside } }));
  const condition = await stalled('fs-outside');
  assert.ok(condition.message.startsWith('spec.storageConfig.filesystem.path'), condition.message);
  assert.match(condition.message, /storage profile default does not let resources set path/);
  assert.equal(await versionsOf('fs-outside'), []);
  assert.equal(await readdir(outside), [], 'nothing was written outside the root');
});

test('a path a profile lets teams choose works inside the root, and cannot leave it through a symlink', async () => {
  const outside = join(env.dir, 'escaped');
  await mkdir(outside);
  await symlink(outside, join(teams, 'evil'));
  const repo = await createGitRepo(join(env.dir, 'teams-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'a team directory') } });
  await env.apply(
    moduleObject('team-a', { profile: 'teams', filesystem: { path: join(teams, 'team-a') } }, repo.url),
    moduleObject('team-evil', { profile: 'teams', filesystem: { path: join(teams, 'evil') } }, repo.url),
  );
  await eventually('Module team-a Ready', async () => ready(await env.get<Obj>('module', 'team-a')));
  assert.ok((await readdir(join(teams, 'team-a'), { recursive: true })).length > 0, 'team-a stored under its own directory');
  const condition = await stalled('team-evil');
  assert.match(condition.message, /is outside the storage root/);
  assert.match(condition.message, /spec\.storageConfig\.filesystem/);
  assert.equal(await readdir(outside), [], 'nothing was written through the symlink');
});

test.run();
