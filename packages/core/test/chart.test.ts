/**
 * The Helm chart with the real `helm`: it lints, renders, carries the generated CRDs, gives the
 * server a read-only role, and the real API server accepts everything it renders.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureTool, kubectl, useControlPlane } from '@opendepot/testbed';
import { parseConfig } from '../src/index.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../../charts/opendepot', import.meta.url));
const helm = await ensureTool('helm');
const ns = `chart-${randomBytes(4).toString('hex')}`;

interface Doc {
  kind: string;
  metadata: { name: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  data?: Record<string, string>;
}

async function render(...set: string[]): Promise<Doc[]> {
  return renderWith([], ...set);
}

async function renderWith(valuesFiles: string[], ...set: string[]): Promise<Doc[]> {
  const args = [...valuesFiles.flatMap((f) => ['-f', f]), ...set.flatMap((s) => ['--set', s])];
  const { stdout } = await run(helm, ['template', 'opendepot', chart, '--namespace', ns, '--include-crds', ...args], {
    env: { ...process.env, HELM_CACHE_HOME: '/tmp/opendepot-helm', HELM_CONFIG_HOME: '/tmp/opendepot-helm', HELM_DATA_HOME: '/tmp/opendepot-helm' },
  });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

test('helm lint passes', async () => {
  const { stdout } = await run(helm, ['lint', chart, '--strict']);
  assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('the chart renders the five CRDs, both workloads, and a read-only server role', async () => {
  const docs = await render();
  const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
  for (const plural of ['modules', 'versions', 'providers', 'depots', 'groupbindings']) {
    assert.ok(kinds.includes(`CustomResourceDefinition/${plural}.opendepot.defdev.io`), `CRD ${plural} missing`);
  }
  assert.ok(kinds.includes('Deployment/opendepot-operator') && kinds.includes('Deployment/opendepot-server'), kinds.join('\n'));
  const serverRole = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'opendepot-server');
  assert.ok(serverRole?.rules?.length, 'server ClusterRole missing');
  const serverRules = docs.filter((d) => (d.kind === 'ClusterRole' || d.kind === 'Role') && d.metadata.name.startsWith('opendepot-server')).flatMap((d) => d.rules ?? []);
  const verbs = new Set(serverRules.flatMap((r) => r.verbs));
  assert.equal([...verbs].sort(), ['get', 'list', 'watch'], 'the server must only read');
  const config = docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '';
  assert.match(config, /namespace: chart-/);
  assert.match(config, /@opendepot\/plugin-fs/);
});

test('examples/scanning/values.yaml renders a configuration the operator accepts: trivy loaded, HIGH and CRITICAL blocked', async () => {
  const docs = await renderWith([fileURLToPath(new URL('../../../examples/scanning/values.yaml', import.meta.url))]);
  const { config } = parseConfig(docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} });
  assert.equal(config.plugins.map((p) => p.package), ['@opendepot/plugin-fs', '@opendepot/plugin-trivy']);
  assert.equal(config.operator.scanning.blockSeverities, ['CRITICAL', 'HIGH']);
  const operator = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'opendepot-operator') as unknown as { spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } } };
  assert.is(operator.spec.template.spec.containers[0]!.resources.limits.memory, '768Mi');
});

test('the real API server accepts every rendered object (server-side dry run)', async () => {
  const cp = await useControlPlane();
  const created = await kubectl(cp, ['create', 'namespace', ns]);
  assert.is(created.code, 0, created.stderr);
  const { stdout } = await run(helm, ['template', 'opendepot', chart, '--namespace', ns, '--set', 'server.tls.secretName=tls', '--set', 'server.gpg.secretName=gpg']);
  const applied = await kubectl(cp, ['apply', '-n', ns, '--dry-run=server', '-f', '-'], { input: stdout });
  assert.is(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /deployment\.apps\/opendepot-server created \(server dry run\)/);
  await kubectl(cp, ['delete', 'namespace', ns, '--wait=false']);
});

test.run();
