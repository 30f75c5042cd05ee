/**
 * Archive sources are plugins found by name. A Module, Provider or Depot entry naming a source no
 * loaded plugin provides is Stalled before any Version exists, and the message names the
 * configured sources and the fix; the CRD refuses a name that cannot be a plugin's. Listing a
 * first-party source's package in plugins: takes it over: disabled, it is no longer offered.
 * Real kube-apiserver, real operator.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Condition } from './support/resources.ts';

interface Obj {
  status?: { conditions?: Condition[]; entries?: { kind: string; name: string; ready: boolean; reason?: string; message?: string }[] };
}

const API = 'opendepot.defdev.io/v1alpha1';
let env: RegistryEnv;

const stalled = (kind: string, name: string) =>
  eventually(`${kind} ${name} Stalled`, async () => (await env.get<Obj>(kind, name)).status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'), 30_000);
const versionsOf = async (owner: string) =>
  JSON.parse((await env.kubectl(['get', 'versions', '-n', env.namespace, '-l', `opendepot.defdev.io/owner-name=${owner}`, '-o', 'json'])).stdout).items as unknown[];

test.before(async () => {
  env = await startRegistryEnv();
});

test.after(async () => {
  await env?.stop();
});

test('a Module naming an unknown source is Stalled; the message names the configured sources and the fix', async () => {
  await env.apply({
    apiVersion: API,
    kind: 'Module',
    metadata: { name: 'elsewhere' },
    spec: { moduleConfig: { name: 'elsewhere', provider: 'aws', repoUrl: 'https://gitlab.example.com/acme/elsewhere.git', source: 'gitlab' }, versions: [{ version: '1.0.0' }] },
  });
  const condition = await stalled('module', 'elsewhere');
  assert.is(condition.reason, 'InvalidSpec');
  assert.match(condition.message, 'spec.moduleConfig.source "gitlab" names no configured archive source (configured: git, github, hashicorp-releases, registry)');
  assert.match(condition.message, /add the plugin that provides "gitlab" to plugins:/);
  assert.equal(await versionsOf('elsewhere'), [], 'no Version is made for a source that does not exist');
});

test('a Provider naming an unknown source is Stalled the same way', async () => {
  await env.apply({
    apiVersion: API,
    kind: 'Provider',
    metadata: { name: 'mirrored' },
    spec: { providerConfig: { name: 'mirrored', source: 'artifactory', operatingSystems: ['linux'], architectures: ['amd64'] }, versions: [{ version: '1.0.0' }] },
  });
  const condition = await stalled('provider', 'mirrored');
  assert.is(condition.reason, 'InvalidSpec');
  assert.match(condition.message, 'spec.providerConfig.source "artifactory" names no configured archive source (configured: git, github, hashicorp-releases, registry)');
});

test('a Depot entry naming an unknown source is not ready, and says why', async () => {
  await env.apply({
    apiVersion: API,
    kind: 'Depot',
    metadata: { name: 'mirror' },
    spec: { moduleConfigs: [{ name: 'elsewhere-mirror', provider: 'aws', repoUrl: 'https://gitlab.example.com/acme/x.git', source: 'gitlab', versionConstraints: '>= 1.0.0' }] },
  });
  const entry = await eventually('the Depot entry reports it', async () => (await env.get<Obj>('depot', 'mirror')).status?.entries?.find((e) => e.name === 'elsewhere-mirror' && e.message), 30_000);
  assert.is(entry.ready, false);
  assert.is(entry.reason, 'InvalidSpec');
  assert.match(entry.message!, /configured: git, github, hashicorp-releases, registry/);
});

test('the CRD refuses a source that cannot be a plugin name', async () => {
  const applied = await env.kubectl(
    ['apply', '-n', env.namespace, '-f', '-'],
    JSON.stringify({
      apiVersion: API,
      kind: 'Module',
      metadata: { name: 'badname' },
      spec: { moduleConfig: { name: 'badname', provider: 'aws', repoOwner: 'acme', source: 'Git Lab' }, versions: [{ version: '1.0.0' }] },
    }),
  );
  assert.is.not(applied.code, 0);
  assert.match(applied.stderr, /spec\.moduleConfig\.source/);
});

test('a first-party source listed in plugins: and disabled is no longer offered: its Modules are Stalled naming the rest', async () => {
  await env.restartOperator({ plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-sources/git', enabled: false }] });
  await env.apply({
    apiVersion: API,
    kind: 'Module',
    metadata: { name: 'by-git' },
    spec: { moduleConfig: { name: 'by-git', provider: 'aws', repoUrl: 'https://git.example.com/acme/by-git.git' }, versions: [{ version: '1.0.0' }] },
  });
  const condition = await stalled('module', 'by-git');
  assert.match(condition.message, 'spec.moduleConfig.source "git" names no configured archive source (configured: github, hashicorp-releases, registry)');
});

test.run();
