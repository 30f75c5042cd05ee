/**
 * The Helm chart with the real `helm`: it lints, renders, carries the generated CRDs, gives the
 * server a read-only role, its values schema rejects typos, its optional pieces render only when
 * enabled, and the real API server accepts everything it renders.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestCertificates, ensureTool, FIXTURE_DB_UPDATED_AT, kubectl, startTrivyDbRegistryStandin, useControlPlane } from '@opendepot/testbed';
import { matchesTenantGlobs, parseConfig } from '../src/index.ts';
import { CHART_SCHEMA_PATH, renderChartValuesSchema } from '../scripts/chart-values-schema.ts';
// The init container's command line is install-plugins.js's: checked with its own parser.
import { parseArgs as parseInstallPluginsArgs } from '../../operator/src/install-plugins.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../../charts/opendepot', import.meta.url));
const helm = await ensureTool('helm');
const ns = `chart-${randomBytes(4).toString('hex')}`;

interface Probe {
  httpGet: { path: string; port: string; scheme: string };
  periodSeconds: number;
  failureThreshold: number;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  seccompProfile?: { type: string };
  capabilities?: { drop?: string[]; add?: string[] };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  ports?: { name: string; containerPort: number }[];
}

interface PodSpec {
  enableServiceLinks?: boolean;
  restartPolicy?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext & { fsGroup?: number; fsGroupChangePolicy?: string };
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
  topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } }[];
}

type Labels = Record<string, string>;

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  data?: Record<string, string>;
  // The union of the spec fields the tests read, over the kinds they read them from.
  spec?: Partial<PodSpec> & {
    replicas?: number;
    strategy?: { type: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    template?: { metadata: { labels: Labels }; spec: PodSpec };
    selector?: { matchLabels: Labels };
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    ingressClassName?: string;
    tls?: { secretName: string; hosts: string[] }[];
    rules?: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[];
    type?: string;
    ports?: { name: string; port: number; targetPort: string | number }[];
    endpoints?: { port: string; path: string; scheme?: string; interval?: string }[];
    podSelector?: { matchLabels: Labels };
    policyTypes?: string[];
    ingress?: { ports: { port: number; protocol?: string }[]; from?: object[] }[];
    egress?: object[];
  };
}

const helmEnv = { ...process.env, HELM_CACHE_HOME: '/tmp/opendepot-helm', HELM_CONFIG_HOME: '/tmp/opendepot-helm', HELM_DATA_HOME: '/tmp/opendepot-helm' };

async function render(...set: string[]): Promise<Doc[]> {
  return renderWith([], ...set);
}

async function renderWith(valuesFiles: string[], ...set: string[]): Promise<Doc[]> {
  const args = [...valuesFiles.flatMap((f) => ['-f', f]), ...set.flatMap((s) => ['--set', s])];
  const { stdout } = await run(helm, ['template', 'opendepot', chart, '--namespace', ns, '--include-crds', ...args], { env: helmEnv });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

/** `helm template` that must fail: its stderr. */
async function renderFails(...set: string[]): Promise<string> {
  const result = await run(helm, ['template', 'opendepot', chart, '--namespace', ns, ...set.flatMap((s) => ['--set', s])], { env: helmEnv }).then(
    () => undefined,
    (err: { stderr: string }) => err.stderr,
  );
  assert.ok(result !== undefined, `helm template ${set.join(' ')} rendered, but must fail`);
  return result;
}

function find(docs: Doc[], kind: string, name: string): Doc {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind}/${name} not rendered; rendered: ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
}

function podSpec(docs: Doc[], component: 'operator' | 'server'): PodSpec {
  const spec = find(docs, 'Deployment', `opendepot-${component}`).spec?.template?.spec;
  assert.ok(spec, `Deployment opendepot-${component} has no pod template`);
  return spec;
}

const kindsOf = (docs: Doc[]) => docs.map((d) => d.kind);

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
  // With Kubernetes auth on, it may also create TokenReviews and SubjectAccessReviews (answers, not stored objects).
  const withAuth = (await render('auth.kubernetes.enabled=true')).find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'opendepot-server');
  const creates = (withAuth?.rules ?? []).filter((r) => r.verbs.includes('create'));
  assert.equal(creates.map((r) => `${r.apiGroups.join(',')}/${r.resources.join(',')}:${r.verbs.join(',')}`).sort(), [
    'authentication.k8s.io/tokenreviews:create',
    'authorization.k8s.io/subjectaccessreviews:create',
  ]);
  const config = docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '';
  assert.match(config, /namespace: chart-/);
  assert.match(config, /@opendepot\/plugin-fs/);
  // /metrics on a port of its own; the limits are the configuration's defaults.
  const parsed = parseConfig(config, { env: {} }).config;
  assert.is(parsed.server.metricsPort, 9090);
  assert.equal(parsed.server.limits, { headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 5, maxConnections: 256, sendIdleTimeoutSeconds: 30 });
});

test('auth values: anonymous by default; Kubernetes tokens and the download URL secret reach the configuration and the server pod', async () => {
  const byDefault = parseConfig((await render()).find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} }).config;
  assert.equal(byDefault.auth.anonymous, { enabled: true });
  assert.is(byDefault.auth.kubernetes.enabled, false);
  assert.is(byDefault.auth.kubeconfig.enabled, false);
  const docs = await render('auth.anonymous.enabled=false', 'auth.kubernetes.enabled=true', 'auth.kubernetes.audiences={opendepot}', 'auth.downloadUrlSecretName=registry-download-url');
  const { config } = parseConfig(docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} });
  assert.equal(config.auth.anonymous, { enabled: false });
  assert.equal(config.auth.kubernetes, { enabled: true, audiences: ['opendepot'], cacheTtlSeconds: 10, cacheMaxEntries: 10000 });
  assert.is(config.auth.downloadUrlSecretFile, '/etc/opendepot/download-url/download-url-secret');
  const server = podSpec(docs, 'server');
  assert.ok(server.volumes?.some((v) => v.name === 'download-url' && JSON.stringify(v).includes('registry-download-url')));
  assert.ok(server.containers[0]!.volumeMounts?.some((m) => m.name === 'download-url' && m.mountPath === '/etc/opendepot/download-url' && m.readOnly === true));
  assert.not.ok(
    podSpec(docs, 'operator').volumes?.some((v) => v.name === 'download-url'),
    'only the server signs download URLs',
  );
  assert.not.ok(
    docs.some((d) => d.kind === 'Secret'),
    'a named Secret is used, none is made',
  );
  // Anonymous off and no Secret named: the chart makes one with a random key, which the server mounts.
  const own = await render('auth.anonymous.enabled=false', 'auth.kubernetes.enabled=true');
  const secret = own.find((d) => d.kind === 'Secret' && d.metadata.name === 'opendepot-download-url') as (Doc & { data?: Record<string, string> }) | undefined;
  assert.ok(secret, 'the chart makes the download URL Secret');
  assert.ok(Buffer.from(secret.data?.['download-url-secret'] ?? '', 'base64').length >= 32);
  assert.is(secret.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  assert.ok(podSpec(own, 'server').volumes?.some((v) => v.name === 'download-url' && JSON.stringify(v).includes('opendepot-download-url')));
  // Anonymous on (the default): no Secret, no mount.
  assert.not.ok((await render()).some((d) => d.kind === 'Secret'));
});

/** Dex on, with one user of its password database (bcrypt("password"), Dex's dev config's hash). */
const DEX_ON = [
  'dex.enabled=true',
  'dex.issuer=https://dex.example.com/dex',
  'dex.staticPasswords[0].email=alice@example.com',
  'dex.staticPasswords[0].hash=$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W',
  'dex.staticPasswords[0].username=alice',
  'dex.staticPasswords[0].userID=08a8684b-db88-4b73-90a9-3cd1661f5466',
  'dex.staticPasswords[0].groups[0]=platform',
];
const configOf = (docs: Doc[]) => parseConfig(find(docs, 'ConfigMap', 'opendepot-config').data?.['config.yaml'] ?? '', { env: {} }).config;

test('Dex off (the default): no Dex object, and plugin-dex is not among the plugins', async () => {
  const docs = await render();
  assert.not.ok(
    docs.some((d) => d.metadata.name.includes('dex') || d.metadata.labels?.['app.kubernetes.io/name'] === 'dex'),
    docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', '),
  );
  assert.equal(
    configOf(docs).plugins.map((p) => p.package),
    ['@opendepot/plugin-fs'],
  );
});

test('Dex on: its Deployment, Service and config Secret render, and the server config carries plugin-dex wired to them', async () => {
  const docs = await render(...DEX_ON);
  const deployment = find(docs, 'Deployment', 'opendepot-dex');
  const service = find(docs, 'Service', 'opendepot-dex');
  const secret = find(docs, 'Secret', 'opendepot-dex') as Doc & { stringData?: Record<string, string> };
  const pod = deployment.spec!.template!.spec;
  assertRestricted('dex', pod);
  const dex = pod.containers[0]!;
  assert.is(dex.image, 'ghcr.io/dexidp/dex:v2.45.1');
  assert.equal(dex.command, ['/usr/local/bin/dex', 'serve', '/etc/dex/config.yaml']);
  assert.is(dex.securityContext?.readOnlyRootFilesystem, true);
  assert.ok((dex as Container & { resources?: { limits?: { memory?: string } } }).resources?.limits?.memory, 'Dex has a memory limit');
  assert.is(dex.readinessProbe?.httpGet.path, '/healthz/ready');
  assert.equal(
    service.spec?.ports?.map((p) => p.port),
    [5556],
  );
  // Dex's own configuration: memory storage, the public client tofu login uses, the user and its groups.
  const dexConfig = parseAllDocuments(secret.stringData?.['config.yaml'] ?? '')[0]!.toJS() as {
    issuer: string;
    storage: { type: string };
    enablePasswordDB: boolean;
    staticClients: { id: string; public?: boolean; redirectURIs: string[] }[];
    staticPasswords: { email: string; groups: string[] }[];
  };
  assert.is(dexConfig.issuer, 'https://dex.example.com/dex');
  assert.equal(dexConfig.storage, { type: 'memory' });
  assert.is(dexConfig.enablePasswordDB, true);
  assert.equal(
    dexConfig.staticPasswords.map((u) => [u.email, u.groups]),
    [['alice@example.com', ['platform']]],
  );
  const client = dexConfig.staticClients[0]!;
  assert.is(client.id, 'opendepot-cli');
  assert.is(client.public, true);
  assert.equal(
    client.redirectURIs,
    Array.from({ length: 11 }, (_, i) => `http://localhost:${10000 + i}/login`),
  );
  // The server's plugin-dex entry, from the same values: the public issuer, and the Service inside.
  const plugins = configOf(docs).plugins;
  assert.equal(
    plugins.map((p) => p.package),
    ['@opendepot/plugin-fs', '@opendepot/plugin-dex'],
  );
  assert.equal(plugins[1]!.config, {
    issuerUrl: 'https://dex.example.com/dex',
    clientId: 'opendepot-cli',
    internalIssuerUrl: `http://opendepot-dex.${ns}.svc:5556/dex`,
    allowInsecureHttp: true,
    groupsClaim: 'groups',
    loginPorts: [10000, 10010],
  });
  // One values block moves both sides: another client, ports, Service port; extra plugin config merges in.
  const moved = await render(
    ...DEX_ON,
    'dex.clientId=registry-cli',
    'dex.loginPorts={20000,20002}',
    'dex.service.port=8080',
    'auth.dex.config.offlineAccess=true',
    'dex.internalIssuer=false',
    // The web UI's sign-in callback joins the client's redirect URIs.
    'dex.browserRedirectURIs[0]=https://registry.example.com/ui/callback',
  );
  const movedConfig = configOf(moved).plugins[1]!.config as Record<string, unknown>;
  assert.equal(movedConfig, { issuerUrl: 'https://dex.example.com/dex', clientId: 'registry-cli', groupsClaim: 'groups', loginPorts: [20000, 20002], offlineAccess: true });
  const movedDex = parseAllDocuments((find(moved, 'Secret', 'opendepot-dex') as Doc & { stringData: Record<string, string> }).stringData['config.yaml']!)[0]!.toJS() as {
    staticClients: { id: string; redirectURIs: string[] }[];
  };
  assert.equal(movedDex.staticClients[0], {
    id: 'registry-cli',
    name: 'OpenDepot',
    public: true,
    redirectURIs: ['http://localhost:20000/login', 'http://localhost:20001/login', 'http://localhost:20002/login', 'https://registry.example.com/ui/callback'],
  });
  // With restricted egress, the server may reach the Dex pods (internalIssuerUrl).
  const egress = find(await render(...DEX_ON, 'networkPolicy.enabled=true', 'networkPolicy.egress.restrict=true'), 'NetworkPolicy', 'opendepot-server').spec?.egress;
  assert.ok(JSON.stringify(egress).includes('{"podSelector":{"matchLabels":{"app.kubernetes.io/instance":"opendepot","app.kubernetes.io/name":"dex"}}}'), JSON.stringify(egress));
});

test('auth.dex: a Dex of yours gets the plugin entry without installing Dex; its values are checked', async () => {
  const docs = await render('auth.dex.enabled=true', 'auth.dex.issuerUrl=https://sso.example.com/dex', 'auth.dex.clientId=tofu', 'auth.dex.config.groupsClaim=roles', 'auth.anonymous.enabled=false');
  assert.not.ok(
    docs.some((d) => d.metadata?.name === 'opendepot-dex'),
    'no Dex object',
  );
  const plugins = configOf(docs).plugins;
  assert.equal(
    plugins.map((p) => p.package),
    ['@opendepot/plugin-fs', '@opendepot/plugin-dex'],
  );
  assert.equal(plugins[1]!.config, { issuerUrl: 'https://sso.example.com/dex', clientId: 'tofu', groupsClaim: 'roles' });
  assert.match(await renderFails('auth.dex.enabled=true', 'auth.dex.clientId=tofu'), /auth\.dex\.issuerUrl is required/);
  assert.match(await renderFails('auth.dex.enabled=true', 'auth.dex.issuerUrl=https://sso.example.com/dex'), /auth\.dex\.clientId is required/);
  assert.match(await renderFails('auth.dex.enabled=true', 'auth.dex.issuerUrl=sso.example.com', 'auth.dex.clientId=tofu'), /\/auth\/dex\/issuerUrl/);
  assert.match(await renderFails(...DEX_ON, 'auth.dex.issuerUrl=https://sso.example.com/dex'), /set one or the other/);
});

test('Dex values that cannot work are refused, naming the field', async () => {
  const fails = async (...set: string[]) => renderFails(...DEX_ON, ...set);
  assert.match(await renderFails('dex.enabled=true', 'dex.connectors[0].type=mockCallback', 'dex.connectors[0].id=mock'), /dex\.issuer is required/);
  assert.match(await fails('dex.issuer=ftp://dex.example.com/dex'), /\/dex\/issuer/);
  assert.match(await fails('dex.staticPasswords[0].hash=password'), /\/dex\/staticPasswords\/0\/hash/);
  assert.match(await fails('dex.loginPorts={10000}'), /\/dex\/loginPorts/);
  assert.match(await fails('dex.loginPorts={10010,10000}'), /dex\.loginPorts must be \[min, max\]/);
  assert.match(await fails('dex.service.type=ExternalName'), /\/dex\/service\/type/);
  assert.match(await fails('dex.imag.tag=x'), /imag/);
  assert.match(await renderFails('dex.enabled=true', 'dex.issuer=https://dex.example.com/dex'), /dex\.staticPasswords or dex\.connectors/);
  assert.match(await fails('config.plugins[1].package=@opendepot/plugin-dex', 'config.plugins[0].package=@opendepot/plugin-fs'), /config\.plugins lists @opendepot\/plugin-dex/);
});

test('examples/scanning/values.yaml renders a configuration the operator accepts: trivy loaded, HIGH and CRITICAL blocked', async () => {
  const docs = await renderWith([fileURLToPath(new URL('../../../examples/scanning/values.yaml', import.meta.url))]);
  const { config } = parseConfig(docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} });
  assert.equal(
    config.plugins.map((p) => p.package),
    ['@opendepot/plugin-fs', '@opendepot/plugin-trivy'],
  );
  assert.equal(config.operator.scanning.blockSeverities, ['CRITICAL', 'HIGH']);
  const operator = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'opendepot-operator') as unknown as {
    spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } };
  };
  assert.is(operator.spec.template.spec.containers[0]!.resources.limits.memory, '768Mi');
});

test('storage profiles: the default renders one filesystem profile; examples/storage/values.yaml swaps it for an S3 profile', async () => {
  const byDefault = parseConfig((await render()).find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} }).config;
  assert.equal(byDefault.storage, { defaultProfile: 'default', profiles: { default: { filesystem: { path: '/data/opendepot' } } } });
  assert.is(byDefault.defaultStorageConfig, undefined);
  const docs = await renderWith([fileURLToPath(new URL('../../../examples/storage/values.yaml', import.meta.url))]);
  const { config } = parseConfig(docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} });
  assert.equal(Object.keys(config.storage.profiles ?? {}), ['aws'], 'default: null drops the filesystem profile');
  assert.is(config.storage.defaultProfile, 'aws');
  // The announcement's Module storageConfig (gitops/, depot.yaml) is allowed by the profile's globs.
  const aws = config.storage.profiles!.aws!;
  assert.ok(matchesTenantGlobs('my-org-opendepot-modules', aws.tenantSettable!.bucket!) && matchesTenantGlobs('opendepot-registry', aws.tenantSettable!.bucket!));
  assert.ok(matchesTenantGlobs('us-west-2', aws.tenantSettable!.region!));
  assert.not.ok(matchesTenantGlobs('someone-elses-bucket', aws.tenantSettable!.bucket!));
});

test('values.schema.json is exactly what the generator writes', async () => {
  const committed = await readFile(fileURLToPath(new URL(`../../../${CHART_SCHEMA_PATH}`, import.meta.url)), 'utf8');
  assert.ok(committed === renderChartValuesSchema(), `${CHART_SCHEMA_PATH} is stale: run \`node --conditions=opendepot-source packages/core/scripts/generate-chart-schema.ts\``);
});

test('a misspelled value fails with its path: server.replcas, config.logLevl, config.operator.concurency', async () => {
  const server = await renderFails('server.replcas=3');
  assert.match(server, /server/);
  assert.match(server, /replcas/);
  const config = await renderFails('config.logLevl=debug');
  assert.match(config, /config/);
  assert.match(config, /logLevl/);
  const nested = await renderFails('config.operator.concurency=2');
  assert.match(nested, /operator/);
  assert.match(nested, /concurency/);
  // Types too: a string where the host wants an integer, an unknown log level.
  assert.match(await renderFails('config.operator.concurrency=four'), /concurrency/);
  assert.match(await renderFails('config.logLevel=loud'), /logLevel/);
  assert.match(await renderFails('server.ingress.enabeld=true'), /enabeld/);
});

test('both Deployments: no service links, a startup allowance before liveness, rolling updates', async () => {
  const docs = await render();
  for (const component of ['operator', 'server'] as const) {
    const spec = podSpec(docs, component);
    assert.is(spec.enableServiceLinks, false, `${component}: service links would set OPENDEPOT_SERVER_PORT=tcp://...`);
    const container = spec.containers[0]!;
    const startup = container.startupProbe;
    assert.ok(startup, `${component}: no startupProbe`);
    assert.is(startup.httpGet.path, '/healthz');
    assert.ok(startup.periodSeconds * startup.failureThreshold >= 60, `${component}: startup allowance under 60 s`);
    assert.is(container.livenessProbe?.httpGet.path, '/healthz');
    assert.is(container.readinessProbe?.httpGet.path, '/readyz');
    assert.is(container.startupProbe?.httpGet.scheme, 'HTTP');
    const deployment = find(docs, 'Deployment', `opendepot-${component}`);
    assert.is(deployment.spec?.strategy?.type, 'RollingUpdate', `${component}: leader election handles two operator pods; no Recreate`);
    assert.is(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
  }
  // The operator's probes are on its health port, the server's on its registry port.
  const ports = (c: 'operator' | 'server') => find(docs, 'Deployment', `opendepot-${c}`).spec?.template?.spec.containers[0] as Container & { ports: { containerPort: number }[] };
  assert.is(ports('operator').ports[0]!.containerPort, 8081);
  assert.is(ports('server').ports[0]!.containerPort, 8080);
  assert.is(podSpec(docs, 'server').containers[0]!.lifecycle?.preStop?.sleep?.seconds, 5);
  // Kubernetes 1.29 (the oldest the chart supports) has the sleep action off: no preStop there.
  const { stdout: old } = await run(helm, ['template', 'opendepot', chart, '--kube-version', '1.29.0', '--show-only', 'templates/deployment-server.yaml'], { env: helmEnv });
  assert.not.match(old, /preStop/);
  // The server's replicas spread softly over nodes and zones; the operator has no spread by default.
  const spread = podSpec(docs, 'server').topologySpreadConstraints ?? [];
  assert.equal(
    spread.map((c) => c.topologyKey),
    ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
  );
  assert.ok(spread.every((c) => c.whenUnsatisfiable === 'ScheduleAnyway' && c.labelSelector.matchLabels['app.kubernetes.io/component'] === 'server'));
  assert.is(podSpec(docs, 'operator').topologySpreadConstraints, undefined);
  // With server TLS the probes speak HTTPS.
  const tls = podSpec(await render('server.tls.secretName=tls'), 'server').containers[0]!;
  assert.equal([tls.startupProbe?.httpGet.scheme, tls.livenessProbe?.httpGet.scheme, tls.readinessProbe?.httpGet.scheme], ['HTTPS', 'HTTPS', 'HTTPS']);
});

test('/tmp is an emptyDir with a size limit (operator 2Gi, server 512Mi), and the limit is a value', async () => {
  const tmp = (docs: Doc[], c: 'operator' | 'server') => podSpec(docs, c).volumes?.find((v) => v.name === 'tmp')?.emptyDir as { sizeLimit?: string } | undefined;
  const docs = await render();
  assert.equal(tmp(docs, 'operator'), { sizeLimit: '2Gi' });
  assert.equal(tmp(docs, 'server'), { sizeLimit: '512Mi' });
  assert.equal(tmp(await render('operator.tmpSizeLimit=5Gi'), 'operator'), { sizeLimit: '5Gi' });
  assert.match(await renderFails('operator.tmpSizeLimit=lots'), 'tmpSizeLimit');
});

test('node flags: the defaults go before the entry point, this Node accepts them, and they are a checked value', async () => {
  const command = (docs: Doc[], c: 'operator' | 'server') => podSpec(docs, c).containers[0]!.command;
  const docs = await render();
  const operatorCommand = command(docs, 'operator');
  assert.equal(operatorCommand, ['node', '--max-semi-space-size=1', '--heap-growing-percent=50', '/app/packages/operator/dist/main.js']);
  assert.equal(command(docs, 'server'), ['node', '--max-semi-space-size=1', '/app/packages/server/dist/main.js']);
  // A V8 flag a Node release dropped would stop the pod at start: the image's Node is this one.
  const flags = operatorCommand!.slice(1, -1);
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-p', 'require("node:v8").getHeapStatistics().total_heap_size > 0']);
  assert.is(stdout.trim(), 'true');
  assert.equal(command(await render('operator.nodeArgs={--max-old-space-size=300}'), 'operator'), ['node', '--max-old-space-size=300', '/app/packages/operator/dist/main.js']);
  assert.match(await renderFails('operator.nodeArgs={--config /etc/x}'), 'nodeArgs');
});
test('the server PodDisruptionBudget: minAvailable 1 with 2 replicas, none with 1 replica or when disabled', async () => {
  const pdb = find(await render(), 'PodDisruptionBudget', 'opendepot-server');
  assert.is(pdb.spec?.minAvailable, 1);
  assert.equal(pdb.spec?.selector?.matchLabels, { 'app.kubernetes.io/name': 'opendepot', 'app.kubernetes.io/instance': 'opendepot', 'app.kubernetes.io/component': 'server' });
  assert.not.ok(kindsOf(await render('server.replicas=1')).includes('PodDisruptionBudget'));
  assert.not.ok(kindsOf(await render('server.podDisruptionBudget.enabled=false')).includes('PodDisruptionBudget'));
  const max = find(await render('server.replicas=3', 'server.podDisruptionBudget.maxUnavailable=1'), 'PodDisruptionBudget', 'opendepot-server');
  assert.equal([max.spec?.maxUnavailable, max.spec?.minAvailable], [1, undefined]);
});

test('helm uninstall keeps the data claim (resource-policy keep) unless told otherwise', async () => {
  assert.is(find(await render(), 'PersistentVolumeClaim', 'opendepot-data').metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  assert.is(find(await render('persistence.keepOnUninstall=false'), 'PersistentVolumeClaim', 'opendepot-data').metadata.annotations, undefined);
});

test('Ingress, ServiceMonitor and NetworkPolicy render only when enabled', async () => {
  const kinds = kindsOf(await render());
  for (const kind of ['Ingress', 'ServiceMonitor', 'NetworkPolicy']) assert.not.ok(kinds.includes(kind), `${kind} rendered by default`);

  const docs = await render(
    'server.ingress.enabled=true',
    'server.ingress.className=nginx',
    'server.ingress.hosts[0]=registry.example.com',
    'server.ingress.tls[0].secretName=registry-tls',
    'server.ingress.tls[0].hosts[0]=registry.example.com',
    'metrics.serviceMonitor.enabled=true',
    'metrics.serviceMonitor.labels.release=prometheus',
    'networkPolicy.enabled=true',
  );
  const ingress = find(docs, 'Ingress', 'opendepot-server');
  assert.is(ingress.spec?.ingressClassName, 'nginx');
  assert.equal(ingress.spec?.tls, [{ secretName: 'registry-tls', hosts: ['registry.example.com'] }]);
  const rule = ingress.spec?.rules?.[0];
  assert.is(rule?.host, 'registry.example.com');
  assert.equal(rule?.http.paths[0], { path: '/', pathType: 'Prefix', backend: { service: { name: 'opendepot-server', port: { name: 'http' } } } });

  // Each /metrics is behind a ClusterIP Service of its own: the operator's on its health port,
  // the server's on its metrics port. The registry's Service (and so the Ingress) never carries it.
  const metricsService = find(docs, 'Service', 'opendepot-operator-metrics');
  assert.equal(metricsService.spec?.ports, [{ name: 'metrics', port: 8081, targetPort: 'http' }]);
  const operatorMonitor = find(docs, 'ServiceMonitor', 'opendepot-operator');
  assert.is(operatorMonitor.metadata.labels?.release, 'prometheus');
  assert.equal(operatorMonitor.spec?.endpoints, [{ port: 'metrics', path: '/metrics' }]);
  assert.is(operatorMonitor.spec?.selector?.matchLabels['app.kubernetes.io/component'], 'operator');
  assert.is(metricsService.metadata.labels?.['app.kubernetes.io/component'], 'operator');
  const serverMetricsService = find(docs, 'Service', 'opendepot-server-metrics');
  assert.equal(serverMetricsService.spec?.ports, [{ name: 'metrics', port: 9090, targetPort: 'metrics' }]);
  assert.is(serverMetricsService.spec?.type, 'ClusterIP');
  const serverMonitor = find(docs, 'ServiceMonitor', 'opendepot-server');
  assert.equal(serverMonitor.spec?.endpoints, [{ port: 'metrics', path: '/metrics' }]);
  const registryService = find(docs, 'Service', 'opendepot-server');
  assert.is(registryService.metadata.labels?.['app.kubernetes.io/component'], 'server');
  assert.equal(registryService.spec?.ports, [{ name: 'http', port: 443, targetPort: 'http' }]);
  assert.equal(find(docs, 'Deployment', 'opendepot-server').spec?.template?.spec.containers[0]?.ports, [
    { name: 'http', containerPort: 8080 },
    { name: 'metrics', containerPort: 9090 },
  ]);
  const tlsMonitor = find(
    await render('metrics.serviceMonitor.enabled=true', 'server.tls.secretName=tls', 'metrics.serviceMonitor.tlsConfig.insecureSkipVerify=true'),
    'ServiceMonitor',
    'opendepot-server',
  );
  assert.equal(tlsMonitor.spec?.endpoints, [{ port: 'metrics', path: '/metrics', scheme: 'https', tlsConfig: { insecureSkipVerify: true } }]);

  // Ingress only to each pod's own ports; egress open unless rules are given.
  const serverPolicy = find(docs, 'NetworkPolicy', 'opendepot-server');
  assert.equal(serverPolicy.spec?.policyTypes, ['Ingress']);
  assert.equal(serverPolicy.spec?.ingress, [{ ports: [{ protocol: 'TCP', port: 8080 }] }, { ports: [{ protocol: 'TCP', port: 9090 }] }]);
  assert.is(serverPolicy.spec?.podSelector?.matchLabels['app.kubernetes.io/component'], 'server');
  const operatorPolicy = find(docs, 'NetworkPolicy', 'opendepot-operator');
  assert.equal(operatorPolicy.spec?.ingress, [{ ports: [{ protocol: 'TCP', port: 8081 }] }]);
  assert.is(operatorPolicy.spec?.egress, undefined);

  const peers = await render(
    'networkPolicy.enabled=true',
    'networkPolicy.server.from[0].namespaceSelector.matchLabels.team=edge',
    'networkPolicy.server.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring',
    'networkPolicy.operator.egress[0].ports[0].port=443',
  );
  const from = find(peers, 'NetworkPolicy', 'opendepot-server').spec?.ingress?.[0]?.from;
  assert.equal(from, [
    { namespaceSelector: { matchLabels: { team: 'edge' } } },
    { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'opendepot', 'app.kubernetes.io/instance': 'opendepot', 'app.kubernetes.io/component': 'test' } } },
  ]);
  assert.equal(find(peers, 'NetworkPolicy', 'opendepot-server').spec?.ingress?.[1], {
    ports: [{ protocol: 'TCP', port: 9090 }],
    from: [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }],
  });
  const restricted = find(peers, 'NetworkPolicy', 'opendepot-operator');
  assert.equal(restricted.spec?.policyTypes, ['Ingress', 'Egress']);
  assert.equal(restricted.spec?.egress, [{ ports: [{ port: 443 }] }]);
});

test('pluginInstall: an init container installs each pinned package into an emptyDir, and the config names it as pluginsDir', async () => {
  const integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
  assert.not.match((await render()).find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', /pluginsDir/);
  assert.not.ok(podSpec(await render(), 'server').volumes?.some((v) => v.name === 'plugins'));

  const docs = await render(
    'pluginInstall.registry=http://npm.internal:4873/',
    'pluginInstall.packages[0].name=@example/opendepot-plugin-webdav',
    'pluginInstall.packages[0].version=1.2.0',
    `pluginInstall.packages[0].integrity=${integrity}`,
    'config.plugins[0].package=@example/opendepot-plugin-webdav',
  );
  for (const component of ['operator', 'server'] as const) {
    const spec = podSpec(docs, component);
    const init = spec.initContainers?.find((c) => c.name === 'install-plugins');
    assert.ok(init, `${component}: no install-plugins init container`);
    assert.equal(init.command, ['node', '/app/packages/operator/dist/install-plugins.js']);
    assert.equal(init.args, ['--prefix', '/opt/opendepot/plugins', '--registry', 'http://npm.internal:4873/', `@example/opendepot-plugin-webdav@1.2.0=${integrity}`]);
    assert.equal(parseInstallPluginsArgs(init.args ?? []), {
      prefix: '/opt/opendepot/plugins',
      registry: 'http://npm.internal:4873/',
      packages: [{ name: '@example/opendepot-plugin-webdav', version: '1.2.0', integrity }],
    });
    assert.is(init.image, spec.containers[0]!.image);
    assert.equal(
      init.env?.filter((e) => e.name === 'HOME' || e.name === 'NPM_CONFIG_CACHE'),
      [
        { name: 'HOME', value: '/tmp' },
        { name: 'NPM_CONFIG_CACHE', value: '/tmp/.npm' },
      ],
    );
    assert.is(init.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(init.volumeMounts, [
      { name: 'plugins', mountPath: '/opt/opendepot/plugins' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    assert.ok(spec.volumes?.find((v) => v.name === 'plugins')?.emptyDir, `${component}: plugins is not an emptyDir`);
    assert.equal(
      spec.containers[0]!.volumeMounts?.find((m) => m.name === 'plugins'),
      { name: 'plugins', mountPath: '/opt/opendepot/plugins', readOnly: true },
    );
  }
  const { config } = parseConfig(docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '', { env: {} });
  assert.is(config.pluginsDir, '/opt/opendepot/plugins');
  assert.equal(
    config.plugins.map((p) => p.package),
    ['@example/opendepot-plugin-webdav'],
  );
  // The default registry, and a package without its integrity is refused by the schema.
  const plain = await render('pluginInstall.packages[0].name=p', 'pluginInstall.packages[0].version=1.0.0', `pluginInstall.packages[0].integrity=${integrity}`);
  assert.equal(
    podSpec(plain, 'server')
      .initContainers?.find((c) => c.name === 'install-plugins')
      ?.args?.slice(2, 4),
    ['--registry', 'https://registry.npmjs.org/'],
  );
  assert.match(await renderFails('pluginInstall.packages[0].name=p', 'pluginInstall.packages[0].version=1.0.0'), /integrity/);
  // install-plugins.js pins SHA-512 only, and exact versions.
  const sha256 = `sha256-${Buffer.alloc(32).toString('base64')}`;
  assert.match(await renderFails('pluginInstall.packages[0].name=p', 'pluginInstall.packages[0].version=1.0.0', `pluginInstall.packages[0].integrity=${sha256}`), /integrity/);
  assert.match(await renderFails('pluginInstall.packages[0].name=p', 'pluginInstall.packages[0].version=^1.0.0', `pluginInstall.packages[0].integrity=${integrity}`), /version/);
});

test('the helm test hook: a non-root, read-only pod without service links fetches discovery through the Service', async () => {
  const pod = find(await render(), 'Pod', 'opendepot-test-discovery');
  assert.is(pod.metadata.annotations?.['helm.sh/hook'], 'test');
  const spec = pod.spec as PodSpec;
  assert.is(spec.restartPolicy, 'Never');
  assert.is(spec.enableServiceLinks, false);
  assert.is(spec.automountServiceAccountToken, false);
  assert.is(spec.securityContext?.runAsUser, 65532);
  assert.is(spec.securityContext?.runAsNonRoot, true);
  const container = spec.containers[0]!;
  assert.is(container.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(container.command?.slice(0, 2), ['node', '-e']);
  assert.match(container.command?.[2] ?? '', /modules\.v1/);
  assert.match(container.command?.[2] ?? '', /providers\.v1/);
  assert.equal(container.env, [{ name: 'DISCOVERY_URL', value: 'http://opendepot-server:443/.well-known/terraform.json' }]);
  const tls = find(await render('server.tls.secretName=tls'), 'Pod', 'opendepot-test-discovery').spec as PodSpec;
  assert.equal(tls.containers[0]!.env, [
    { name: 'DISCOVERY_URL', value: 'https://opendepot-server:443/.well-known/terraform.json' },
    { name: 'NODE_TLS_REJECT_UNAUTHORIZED', value: '0' },
  ]);
});

test('the helm test script accepts a discovery document with both services and refuses one without', async () => {
  const script = (find(await render(), 'Pod', 'opendepot-test-discovery').spec as PodSpec).containers[0]!.command![2]!;
  const { createServer } = await import('node:http');
  let body = '{"modules.v1":"/opendepot/modules/v1/","providers.v1":"/opendepot/providers/v1/"}';
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const env = { ...process.env, DISCOVERY_URL: `http://127.0.0.1:${port}/.well-known/terraform.json` };
  try {
    const ok = await run(process.execPath, ['-e', script], { env });
    assert.match(ok.stdout, /modules\.v1/);
    body = '{"modules.v1":"/opendepot/modules/v1/"}';
    const failed = await run(process.execPath, ['-e', script], { env }).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(failed ?? 'exited 0', /lacks providers\.v1/);
  } finally {
    server.close();
  }
});

test('helm lint --strict passes with every optional piece enabled', async () => {
  const { stdout } = await run(helm, [
    'lint',
    chart,
    '--strict',
    '--set',
    'server.ingress.enabled=true',
    '--set',
    'server.ingress.hosts[0]=registry.example.com',
    '--set',
    'metrics.serviceMonitor.enabled=true',
    '--set',
    'networkPolicy.enabled=true',
    '--set',
    'pluginInstall.packages[0].name=p',
    '--set',
    'pluginInstall.packages[0].version=1.0.0',
    '--set',
    `pluginInstall.packages[0].integrity=sha512-${Buffer.alloc(64).toString('base64')}`,
    ...DEX_ON.flatMap((s) => ['--set', s]),
    ...TRIVY_DB_ON.flatMap((s) => ['--set', s]),
  ]);
  assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

/** Asserts `spec` and its containers meet Pod Security "restricted" (the fields it checks). */
function assertRestricted(what: string, spec: PodSpec): void {
  const pod = spec.securityContext ?? {};
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const c = container.securityContext ?? {};
    const name = `${what} container ${container.name}`;
    assert.ok(c.runAsNonRoot ?? pod.runAsNonRoot, `${name}: runAsNonRoot`);
    assert.is.not(c.runAsUser ?? pod.runAsUser, 0, `${name}: runs as root`);
    assert.is((c.seccompProfile ?? pod.seccompProfile)?.type, 'RuntimeDefault', `${name}: seccompProfile`);
    assert.is(c.allowPrivilegeEscalation, false, `${name}: allowPrivilegeEscalation`);
    assert.ok(c.capabilities?.drop?.includes('ALL'), `${name}: drops ALL capabilities`);
    assert.equal(c.capabilities?.add ?? [], [], `${name}: adds capabilities`);
    assert.not.ok(c.privileged, `${name}: privileged`);
  }
}

test('Pod Security "restricted": no root init container; fsGroup hands the volume over; every pod and container qualifies', async () => {
  const docs = await render();
  for (const component of ['operator', 'server'] as const) {
    const spec = podSpec(docs, component);
    assert.is(spec.initContainers, undefined, `${component}: no init container by default (the chown-data one is gone)`);
    assert.is(spec.securityContext?.fsGroup, 65532);
    assert.is(spec.securityContext?.fsGroupChangePolicy, 'OnRootMismatch');
    assertRestricted(component, spec);
  }
  assertRestricted('helm test', find(docs, 'Pod', 'opendepot-test-discovery').spec as PodSpec);
  // With the plugin installer too, and whatever the pod-level context: the containers carry their own.
  const plugins = await render('pluginInstall.packages[0].name=p', 'pluginInstall.packages[0].version=1.0.0', `pluginInstall.packages[0].integrity=sha512-${Buffer.alloc(64).toString('base64')}`);
  for (const component of ['operator', 'server'] as const) assertRestricted(`${component} with pluginInstall`, podSpec(plugins, component));
  // The removed switch is refused by the schema rather than silently ignored.
  assert.match(await renderFails('persistence.initChown=true'), /initChown/);
});

test('the operator reads Secrets only in the namespaces the chart names, never cluster-wide', async () => {
  const docs = await render();
  const clusterRules = docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
  assert.not.ok(
    clusterRules.some((r) => r.resources.includes('secrets')),
    'a ClusterRole grants Secrets',
  );
  const secretRoles = (list: Doc[]) => list.filter((d) => d.kind === 'Role' && d.rules?.some((r) => r.resources.includes('secrets')) && d.metadata.name === 'opendepot-operator-secrets');
  assert.equal(
    secretRoles(docs).map((d) => d.metadata.namespace),
    [ns],
    'default: the release namespace',
  );
  assert.equal(secretRoles(docs)[0]?.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  const binding = docs.find((d) => d.kind === 'RoleBinding' && d.metadata.name === 'opendepot-operator-secrets') as unknown as {
    metadata: { namespace: string };
    subjects: Array<{ name: string; namespace: string }>;
  };
  assert.is(binding.metadata.namespace, ns);
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: 'opendepot-operator', namespace: ns }]);
  const named = await render('rbac.secretNamespaces[0]=team-a', 'rbac.secretNamespaces[1]=team-b');
  assert.equal(
    secretRoles(named).map((d) => d.metadata.namespace),
    ['team-a', 'team-b'],
  );
  const bindings = named.filter((d) => d.kind === 'RoleBinding' && d.metadata.name === 'opendepot-operator-secrets');
  assert.equal(
    bindings.map((d) => d.metadata.namespace),
    ['team-a', 'team-b'],
  );
  assert.match(await renderFails('rbac.secretNamespaces[0]=Not_A_Namespace'), /secretNamespaces/);
});

test('egress defaults: the configuration allows GitHub, HashiCorp and the public registries, and no private address', async () => {
  const config = parseConfig(find(await render(), 'ConfigMap', 'opendepot-config').data?.['config.yaml'] ?? '').config;
  assert.equal(config.operator.allowedGitHosts, ['github.com', 'api.github.com', 'codeload.github.com']);
  assert.equal(config.operator.providers.allowedRegistryHosts, ['registry.terraform.io', 'registry.opentofu.org']);
  assert.equal(config.operator.providers.allowedDownloadHosts, [
    'releases.hashicorp.com',
    'api.releases.hashicorp.com',
    'github.com',
    'objects.githubusercontent.com',
    'release-assets.githubusercontent.com',
  ]);
  assert.equal(config.operator.egress, { allowPrivateNetworks: false, allowedPrivateCidrs: [] });
  assert.match(await renderFails('config.operator.egress.allowedPrivateCidrs[0]=10.0.0.0'), /allowedPrivateCidrs/);
});

test('networkPolicy.egress.restrict: DNS, the API server and storage for both pods; public HTTPS and ssh for the operator only', async () => {
  const docs = await render(
    'networkPolicy.enabled=true',
    'networkPolicy.egress.restrict=true',
    'networkPolicy.egress.storage[0].to[0].ipBlock.cidr=10.30.0.0/16',
    'networkPolicy.egress.storage[0].ports[0].port=9000',
  );
  const dns = {
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  const api = {
    ports: [
      { protocol: 'TCP', port: 443 },
      { protocol: 'TCP', port: 6443 },
    ],
  };
  const storage = { to: [{ ipBlock: { cidr: '10.30.0.0/16' } }], ports: [{ port: 9000 }] };
  const internet = {
    to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8'] } }],
    ports: [
      { protocol: 'TCP', port: 443 },
      { protocol: 'TCP', port: 22 },
    ],
  };
  const operator = find(docs, 'NetworkPolicy', 'opendepot-operator');
  assert.equal(operator.spec?.policyTypes, ['Ingress', 'Egress']);
  assert.equal(operator.spec?.egress, [dns, api, internet, storage]);
  const server = find(docs, 'NetworkPolicy', 'opendepot-server');
  assert.equal(server.spec?.egress, [dns, api, storage], 'the server reaches no upstream');
  // Peers for DNS and the API server, and a component's own rules added last.
  const tight = await render(
    'networkPolicy.enabled=true',
    'networkPolicy.egress.restrict=true',
    'networkPolicy.egress.dns[0].namespaceSelector.matchLabels.name=kube-system',
    'networkPolicy.egress.apiServer.to[0].ipBlock.cidr=10.0.0.10/32',
    'networkPolicy.operator.egress[0].ports[0].port=8443',
  );
  const rules = find(tight, 'NetworkPolicy', 'opendepot-operator').spec?.egress as Array<{ to?: unknown; ports?: unknown }>;
  assert.equal(rules[0]?.to, [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }]);
  assert.equal(rules[1]?.to, [{ ipBlock: { cidr: '10.0.0.10/32' } }]);
  assert.equal(rules.at(-1), { ports: [{ port: 8443 }] });
  // Off by default: egress stays open.
  assert.is(find(await render('networkPolicy.enabled=true'), 'NetworkPolicy', 'opendepot-server').spec?.egress, undefined);
});

/** The trivy plugin listed (as examples/scanning does) and trivyDatabase on, from a mirror with its own CA. */
const TRIVY_DB_ON = [
  'config.plugins[0].package=@opendepot/plugin-fs',
  'config.plugins[1].package=@opendepot/plugin-trivy',
  'config.plugins[1].config.binary=/usr/local/bin/trivy',
  'trivyDatabase.enabled=true',
  'trivyDatabase.repository=registry.example.com/mirror/trivy-db:2',
  'trivyDatabase.caConfigMap.name=mirror-ca',
];
const TRIVY_CACHE_DIR = '/var/cache/trivy';

/** The CronJob's pod spec. */
function trivyDbJobPod(docs: Doc[]): PodSpec & { affinity?: { podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector: { matchLabels: Labels } }[] } } } {
  const cronJob = find(docs, 'CronJob', 'opendepot-trivy-database') as unknown as { spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } } };
  return cronJob.spec.jobTemplate.spec.template.spec;
}

const envOf = (container: Container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? JSON.stringify((e as { valueFrom?: unknown }).valueFrom)]));

test('trivyDatabase off (the default): no trivy volume, CronJob, init container or mount, and the trivy plugin config is as given', async () => {
  const docs = await renderWith([fileURLToPath(new URL('../../../examples/scanning/values.yaml', import.meta.url))]);
  assert.not.ok(
    docs.some((d) => d.kind === 'CronJob' || d.metadata.name.includes('trivy')),
    docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', '),
  );
  const operator = podSpec(docs, 'operator');
  assert.is(operator.initContainers, undefined);
  assert.not.ok(JSON.stringify(operator).includes('trivy-cache'));
  assert.equal(configOf(docs).plugins[1]?.config, { binary: '/usr/local/bin/trivy', maxConcurrentScans: 1 });
});

test('trivyDatabase on: a ReadWriteMany claim, a CronJob downloading from the mirror, an init container filling an empty volume, mounted at the trivy plugin cacheDir', async () => {
  // As examples/scanning/values.yaml says to turn it on.
  const docs = await renderWith(
    [fileURLToPath(new URL('../../../examples/scanning/values.yaml', import.meta.url))],
    'trivyDatabase.enabled=true',
    'trivyDatabase.repository=registry.example.com/mirror/trivy-db:2',
    'trivyDatabase.caConfigMap.name=mirror-ca',
  );
  const claim = find(docs, 'PersistentVolumeClaim', 'opendepot-trivy-cache') as unknown as { spec: { accessModes: string[]; resources: { requests: { storage: string } } } };
  assert.equal(claim.spec.accessModes, ['ReadWriteMany']);
  assert.is(claim.spec.resources.requests.storage, '4Gi');
  // The plugin reads the volume, and never downloads itself (no dbRepository: --skip-db-update).
  const trivyPlugin = configOf(docs).plugins.find((p) => p.package === '@opendepot/plugin-trivy');
  assert.equal(trivyPlugin?.config, { binary: '/usr/local/bin/trivy', maxConcurrentScans: 1, cacheDir: TRIVY_CACHE_DIR });
  const operator = podSpec(docs, 'operator');
  assert.ok(operator.containers[0]!.volumeMounts?.some((m) => m.name === 'trivy-cache' && m.mountPath === TRIVY_CACHE_DIR && !m.readOnly));
  assert.ok(JSON.stringify(operator.volumes).includes('"claimName":"opendepot-trivy-cache"'));
  assert.not.ok(JSON.stringify(podSpec(docs, 'server')).includes('trivy'), 'the server has nothing to do with trivy');

  const cronJob = find(docs, 'CronJob', 'opendepot-trivy-database') as unknown as { spec: { schedule: string; concurrencyPolicy: string } };
  assert.is(cronJob.spec.schedule, '23 */6 * * *');
  assert.is(cronJob.spec.concurrencyPolicy, 'Forbid');
  const job = trivyDbJobPod(docs);
  assert.is(job.automountServiceAccountToken, false);
  assert.is(job.enableServiceLinks, false);
  assert.is(job.securityContext?.fsGroup, 65532, 'the volume is handed to the non-root user');
  assert.is(job.affinity, undefined, 'a ReadWriteMany volume: any node');
  assertRestricted('trivy database CronJob', job);
  const download = job.containers[0]!;
  const init = operator.initContainers?.find((c) => c.name === 'trivy-database');
  assert.ok(init, 'the operator fills an empty volume at start');
  assertRestricted('operator with trivyDatabase', operator);
  for (const container of [download, init]) {
    assert.is(container.image, operator.containers[0]!.image, 'the OpenDepot image (with-trivy)');
    assert.equal(container.command?.slice(0, 2), ['sh', '-c']);
    assert.match(container.command?.[2] ?? '', /trivy image --download-db-only .*--cache-dir "\$staging" --db-repository "\$DB_REPOSITORY"/s);
    const env = envOf(container);
    assert.is(env.CACHE_DIR, TRIVY_CACHE_DIR);
    assert.is(env.DB_REPOSITORY, 'registry.example.com/mirror/trivy-db:2');
    assert.is(env.CA_FILE, '/etc/opendepot/trivy-ca/ca.crt');
    assert.ok(container.volumeMounts?.some((m) => m.name === 'trivy-cache' && m.mountPath === TRIVY_CACHE_DIR));
    assert.ok(container.volumeMounts?.some((m) => m.name === 'trivy-ca' && m.readOnly));
  }
  assert.is(envOf(init).ONLY_WHEN_MISSING, 'true');
  assert.is(envOf(download).ONLY_WHEN_MISSING, undefined);
  assert.ok(JSON.stringify(job.volumes).includes('"configMap":{"name":"mirror-ca"}'));

  // An existing claim; ReadWriteOnce puts the CronJob on the operator's node; no init container when asked.
  const own = await render(
    ...TRIVY_DB_ON,
    'trivyDatabase.persistence.existingClaim=trivy-cache',
    'trivyDatabase.persistence.accessModes={ReadWriteOnce}',
    'trivyDatabase.populateOnStart=false',
    'trivyDatabase.insecure=true',
  );
  assert.not.ok(own.some((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name.includes('trivy')));
  assert.ok(JSON.stringify(podSpec(own, 'operator').volumes).includes('"claimName":"trivy-cache"'));
  assert.is(podSpec(own, 'operator').initContainers, undefined);
  const affinity = trivyDbJobPod(own).affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  assert.equal(affinity, [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: find(own, 'Deployment', 'opendepot-operator').spec?.selector?.matchLabels } }]);
  assert.is(envOf(trivyDbJobPod(own).containers[0]!).INSECURE, 'true');
});

test('trivyDatabase values that cannot work are refused, naming the fix', async () => {
  assert.match(await renderFails('trivyDatabase.enabled=true', 'trivyDatabase.repository=r.example.com/trivy-db:2'), /needs @opendepot\/plugin-trivy in config\.plugins/);
  assert.match(await renderFails(...TRIVY_DB_ON, 'trivyDatabase.repository='), /trivyDatabase\.repository is required/);
  assert.match(await renderFails(...TRIVY_DB_ON, 'config.plugins[1].config.dbRepository=r.example.com/trivy-db:2'), /drop dbRepository from the trivy plugin's config/);
  assert.match(await renderFails(...TRIVY_DB_ON, 'config.plugins[1].config.cacheDir=/elsewhere'), /drop cacheDir \(\/elsewhere\)/);
  assert.match(await renderFails(...TRIVY_DB_ON, 'trivyDatabase.persistence.accessModes={ReadWriteOncePod}'), /accessModes/);
});

test('the download script, as rendered, with the real trivy and a stand-in mirror: the CronJob fills and refreshes the cache, the init container only fills an empty one and never fails', async () => {
  const docs = await render(...TRIVY_DB_ON);
  const script = trivyDbJobPod(docs).containers[0]!.command![2]!;
  assert.equal(podSpec(docs, 'operator').initContainers?.find((c) => c.name === 'trivy-database')?.command?.[2], script, 'one script for both');
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-chart-trivy-db-'));
  const certificates = await createTestCertificates();
  const mirror = await startTrivyDbRegistryStandin({ tls: certificates });
  try {
    await mkdir(join(dir, 'bin'));
    await symlink(await ensureTool('trivy'), join(dir, 'bin', 'trivy'));
    await writeFile(join(dir, 'ca.crt'), certificates.caPem);
    const cacheDir = join(dir, 'cache');
    await mkdir(cacheDir);
    const runScript = (env: Record<string, string>) =>
      run('sh', ['-c', script], {
        env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, CACHE_DIR: cacheDir, POD_NAME: 'download-1', DB_REPOSITORY: mirror.dbRepository, CA_FILE: join(dir, 'ca.crt'), ...env },
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const metadata = async () => JSON.parse(await readFile(join(cacheDir, 'db', 'metadata.json'), 'utf8')) as { UpdatedAt: string; DownloadedAt: string };

    // What a killed run left two hours ago is swept; a download running now is left alone.
    await mkdir(join(cacheDir, '.download-killed', 'db'), { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(cacheDir, '.download-killed'), twoHoursAgo, twoHoursAgo);
    await mkdir(join(cacheDir, '.download-running'));
    const first = await runScript({});
    assert.is(first.code, 0, first.stderr);
    assert.equal((await readdir(join(cacheDir, 'db'))).sort(), ['metadata.json', 'trivy.db']);
    assert.is((await metadata()).UpdatedAt, FIXTURE_DB_UPDATED_AT);
    assert.equal((await readdir(cacheDir)).sort(), ['.download-running', 'db'], 'its own staging directory and the stale one are gone');
    await rm(join(cacheDir, '.download-running'), { recursive: true });
    // The init container leaves a database that is there alone.
    const pulls = mirror.requests.length;
    const init = await runScript({ ONLY_WHEN_MISSING: 'true', POD_NAME: 'operator-1' });
    assert.is(init.code, 0, init.stderr);
    assert.match(init.stdout, /already in/);
    assert.is(mirror.requests.length, pulls);
    // The CronJob downloads again and swaps the files in.
    const before = (await metadata()).DownloadedAt;
    const refreshed = await runScript({ POD_NAME: 'download-2' });
    assert.is(refreshed.code, 0, refreshed.stderr);
    assert.ok((await metadata()).DownloadedAt > before, 'a fresh download');
    // A mirror that answers 500: the CronJob's run fails and the database in place stays.
    mirror.failNext(100, 500);
    const failed = await runScript({ POD_NAME: 'download-3' });
    mirror.failNext(0);
    assert.is.not(failed.code, 0);
    assert.match(failed.stderr, /could not download the trivy DB/);
    assert.is((await metadata()).UpdatedAt, FIXTURE_DB_UPDATED_AT);
    assert.equal(await readdir(cacheDir), ['db']);
    // The init container with an empty volume and a mirror it cannot trust: the pod still starts.
    await rm(join(cacheDir, 'db'), { recursive: true });
    const untrusted = await runScript({ ONLY_WHEN_MISSING: 'true', CA_FILE: '' });
    assert.is(untrusted.code, 0, untrusted.stderr);
    assert.match(untrusted.stderr, /ScannerDatabaseMissing until the CronJob succeeds/);
    assert.equal(await readdir(cacheDir), []);
  } finally {
    await mirror.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the real API server accepts every rendered object (server-side dry run)', async () => {
  const cp = await useControlPlane();
  const created = await kubectl(cp, ['create', 'namespace', ns]);
  assert.is(created.code, 0, created.stderr);
  // Its PodSecurity admission enforces "restricted" here: the test pod is checked, the Deployments warned about.
  const labeled = await kubectl(cp, ['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  assert.is(labeled.code, 0, labeled.stderr);
  const { stdout } = await run(helm, ['template', 'opendepot', chart, '--namespace', ns, '--set', 'server.tls.secretName=tls', '--set', 'server.gpg.secretName=gpg']);
  const applied = await kubectl(cp, ['apply', '-n', ns, '--dry-run=server', '-f', '-'], { input: stdout });
  assert.is(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /deployment\.apps\/opendepot-server created \(server dry run\)/);
  assert.match(applied.stdout, /poddisruptionbudget\.policy\/opendepot-server created \(server dry run\)/);
  assert.match(applied.stdout, /pod\/opendepot-test-discovery created \(server dry run\)/);
  assert.not.match(applied.stderr, /PodSecurity/, applied.stderr);
  // The optional pieces (the ServiceMonitor needs the Prometheus Operator's CRD, which this API
  // server lacks: it is checked rendered only, above).
  const optional = await run(helm, [
    'template',
    'opendepot',
    chart,
    '--namespace',
    ns,
    '--set',
    'server.ingress.enabled=true',
    '--set',
    'server.ingress.hosts[0]=registry.example.com',
    '--set',
    'server.ingress.tls[0].secretName=registry-tls',
    '--set',
    'server.ingress.tls[0].hosts[0]=registry.example.com',
    '--set',
    'networkPolicy.enabled=true',
    '--set',
    'networkPolicy.server.from[0].namespaceSelector.matchLabels.team=edge',
    '--set',
    'networkPolicy.operator.egress[0].ports[0].port=443',
    '--set',
    'networkPolicy.egress.restrict=true',
    '--set',
    'networkPolicy.egress.storage[0].to[0].ipBlock.cidr=10.30.0.0/16',
    '--set',
    'pluginInstall.packages[0].name=@example/opendepot-plugin-webdav',
    '--set',
    'pluginInstall.packages[0].version=1.2.0',
    '--set',
    `pluginInstall.packages[0].integrity=sha512-${Buffer.alloc(64).toString('base64')}`,
    '--set',
    'server.replicas=3',
    '--set',
    'server.podDisruptionBudget.maxUnavailable=1',
    ...DEX_ON.flatMap((s) => ['--set', s]),
    ...TRIVY_DB_ON.flatMap((s) => ['--set', s]),
  ]);
  const appliedOptional = await kubectl(cp, ['apply', '-n', ns, '--dry-run=server', '-f', '-'], { input: optional.stdout });
  assert.is(appliedOptional.code, 0, appliedOptional.stderr);
  assert.not.match(appliedOptional.stderr, /PodSecurity/, appliedOptional.stderr);
  for (const object of [
    'deployment.apps/opendepot-dex',
    'service/opendepot-dex',
    'secret/opendepot-dex',
    'ingress.networking.k8s.io/opendepot-server',
    'networkpolicy.networking.k8s.io/opendepot-server',
    'networkpolicy.networking.k8s.io/opendepot-operator',
    'poddisruptionbudget.policy/opendepot-server',
    'deployment.apps/opendepot-operator',
    'persistentvolumeclaim/opendepot-trivy-cache',
    'cronjob.batch/opendepot-trivy-database',
  ]) {
    assert.ok(appliedOptional.stdout.includes(`${object} created (server dry run)`), `${object} not applied:\n${appliedOptional.stdout}`);
  }
  await kubectl(cp, ['delete', 'namespace', ns, '--wait=false']);
});

test.run();
