/**
 * `helm install` on a real node, as users do it: the image built from the repository's Dockerfile,
 * imported into a real kubelet's containerd, and `charts/opendepot` installed with the real helm.
 * In order, on one cluster:
 *   (a) default values in a namespace enforcing Pod Security "restricted" (a privileged pod is
 *       refused there): filesystem storage on a PVC made writable by fsGroup, no root step, a Module applied with kubectl reaches Ready,
 *       tofu installs it through the Service; the operator in the pod documented it and the
 *       browse UI shows it; a pod started after the Service exists (service links injected)
 *       still starts;
 *   (c) MinIO storage with presigned downloads;
 *   (d) a third-party plugin named only in Helm values, installed at pod start from an npm registry;
 *   (b) examples/scanning/values.yaml with the with-trivy image;
 *   (b2) provider scanning on the node: trivyDatabase fills a volume from an OCI mirror (the
 *       operator's init container, then the CronJob run by hand), a vulnerable provider's
 *       platform is blocked with CVE-2022-32149 from its binary and its source, the fixed one
 *       is served;
 *   (e) `helm upgrade` to a new image tag keeps serving (no failed request);
 *   (f) the operator leader killed mid-sync: the new leader finishes, nothing partial is served;
 *   (h) access control with the chart's Dex: anonymous off, no token is a 401 while discovery
 *       advertises login.v1; a token from Dex's real login form lets tofu install the module a
 *       GroupBinding grants, and not another;
 *   (g) `helm uninstall` removes everything but the CRDs and the stored data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  createSigningKey,
  dexAccessToken,
  FIXED_X_TEXT,
  startHashicorpReleasesStandin,
  startTrivyDbRegistryStandin,
  VULNERABLE_PROVIDER_SOURCE,
  vulnerableProviderExecutables,
  buildDexImage,
  DEX_IMAGE,
  DEX_PASSWORD_HASH,
  INSECURE_MODULE_TF,
  CLEAN_MODULE_TF,
  NODE_IP,
  startGithubStandin,
  startMinio,
  startNpmRegistryStandin,
  TEST_IMAGE_REPOSITORY,
  TEST_IMAGE_TAGS,
  type GithubStandin,
  type Minio,
  type NpmRegistryStandin,
  type RepoFiles,
} from '@opendepot/testbed';
import { test } from 'uvu';
import { stringify } from 'yaml';
import * as assert from 'uvu/assert';
import { startWebDavServer, type RunningWebDav } from '../../../examples/storage-plugin/test/support/webdav.ts';
import { HOST, NAMESPACE, POD_SECURITY_LABEL, RELEASE, startClusterEnv, until, type ClusterEnv } from './support/cluster-env.ts';
import { ready, type Obj } from './support/resources.ts';

const TEAM = 'platform';
const figures: Record<string, string> = {};

let env: ClusterEnv;
let github: GithubStandin;
let minio: Minio | undefined;
let dav: RunningWebDav | undefined;
let npm: NpmRegistryStandin | undefined;
let githubValues: object;
/**
 * Storage profiles added as the tests bring backends up (storage is platform policy). An install
 * names only the profiles whose plugins it loads: a profile over a missing plugin stops start-up.
 */
const storageProfiles: Record<string, unknown> = {};
const profilesOf = (...names: string[]) => ({ storage: { profiles: Object.fromEntries(names.map((n) => [n, storageProfiles[n]])) } });

const moduleFiles = (name: string, version: string, extra: RepoFiles = {}): RepoFiles => ({
  'main.tf': `output "version" {\n  value = "${name} ${version}"\n}\n`,
  'README.md': `# ${name} ${version}\n`,
  ...extra,
});

const moduleManifest = (name: string, versions: string[], spec: Record<string, unknown> = {}) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name, namespace: TEAM },
  spec: {
    moduleConfig: { name, provider: 'aws', repoOwner: 'acme', repoUrl: `https://github.com/acme/terraform-aws-${name}`, fileFormat: 'tar.gz' },
    versions: versions.map((version) => ({ version })),
    ...spec,
  },
});

function addRepo(name: string, versions: string[], files: (v: string) => RepoFiles = (v) => moduleFiles(name, v)): void {
  github.addRepo('acme', `terraform-aws-${name}`, { releases: versions.map((v) => ({ tag: `v${v}`, files: files(v) })) });
}

async function moduleOf(name: string): Promise<Obj & { status?: { latestVersion?: string } }> {
  return env.get('module', name, TEAM);
}

async function versionsOf(name: string): Promise<Obj[]> {
  const r = await env.kubectl(['get', 'versions', '-n', TEAM, '-l', `opendepot.defdev.io/owner-name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
}

async function untilModuleReady(name: string, timeoutMs = 180_000): Promise<void> {
  await until(env, `Module ${name} Ready`, async () => ready(await moduleOf(name)), timeoutMs);
}

const moduleTf = (name: string, version: string) => `module "${name}" {\n  source  = "${HOST}/${TEAM}/${name}/aws"\n  version = "${version}"\n}\n`;

/** Asserts tofu installed `version` of `name` (with `tofuEnv`, e.g. a token). */
async function assertInstalled(name: string, constraint: string, version: string, tofuEnv?: NodeJS.ProcessEnv): Promise<void> {
  await untilListedByEveryReplica(name, version, tofuEnv);
  const run = await env.tofu(moduleTf(name, constraint), undefined, tofuEnv);
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === name);
  assert.is(entry?.Version, version, run.output);
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), `${name} ${version}`);
}

/**
 * Waits until the server lists `version` of `name` in several answers in a row: Ready in the API
 * server reaches each replica's cache a moment later (its watch), and the Service may pick any.
 */
async function untilListedByEveryReplica(name: string, version: string, tofuEnv?: NodeJS.ProcessEnv): Promise<void> {
  const token = Object.entries(tofuEnv ?? {}).find(([k]) => k.startsWith('TF_TOKEN_'))?.[1];
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const url = `${await env.baseUrl()}/opendepot/modules/v1/${TEAM}/${name}/aws/versions`;
  let inARow = 0;
  await until(
    env,
    `${name} ${version} listed by the server`,
    async () => {
      const answer = await get(url, headers);
      inARow = answer.status === 200 && answer.body.toString().includes(`"${version}"`) ? inARow + 1 : 0;
      return inARow >= 4;
    },
    60_000,
  );
}

/** GET over HTTPS trusting the test CA, a new connection each time (as separate tofu runs do). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, agent: false, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
let caPem = '';

/** Downloads every Ready version of a module through the registry protocol and checks its bytes against status.checksum. */
async function assertServedBytesMatch(name: string): Promise<number> {
  const base = await env.baseUrl();
  let checked = 0;
  for (const v of await versionsOf(name)) {
    if (!ready(v)) continue;
    const download = await get(`${base}/opendepot/modules/v1/${TEAM}/${name}/aws/${v.spec.version}/download`);
    assert.is(download.status, 204, `download answer for ${name} ${v.spec.version}: ${download.body.toString()}`);
    const target = new URL(String(download.headers['x-terraform-get']), `${base}/opendepot/modules/v1/${TEAM}/${name}/aws/${v.spec.version}/download`);
    const archive = await get(target.href);
    assert.is(archive.status, 200, `archive of ${name} ${v.spec.version}`);
    assert.is(createHash('sha256').update(archive.body).digest('hex'), v.status?.checksum, `served bytes of ${name} ${v.spec.version} match the recorded checksum`);
    checked++;
  }
  return checked;
}

async function podsOf(component: string): Promise<Array<{ metadata: { name: string; uid: string }; spec: { containers: Array<{ image: string }> }; status: { phase: string } }>> {
  const r = await env.kubectl(['get', 'pods', '-n', NAMESPACE, '-l', `app.kubernetes.io/component=${component}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: never[] }).items;
}

/** Peak memory of a pod's containers so far, from its cgroup (v1) on the node. */
async function peakMemoryMiB(uid: string): Promise<number | undefined> {
  for (const qos of ['burstable', 'besteffort', '']) {
    const file = join('/sys/fs/cgroup/memory/kubepods', qos, `pod${uid}`, 'memory.max_usage_in_bytes');
    // A pod that is going away can lose its cgroup between the check and the read (ENODEV).
    if (existsSync(file))
      return readFile(file, 'utf8').then(
        (text) => Math.round(Number(text) / 1048576),
        () => undefined,
      );
  }
  return undefined;
}

async function recordMemory(step: string): Promise<void> {
  for (const component of ['operator', 'server']) {
    for (const pod of await podsOf(component)) {
      const mib = await peakMemoryMiB(pod.metadata.uid);
      if (mib !== undefined) figures[`${step} ${component} peak MiB`] = String(Math.max(mib, Number(figures[`${step} ${component} peak MiB`] ?? 0)));
    }
  }
}

test.before(async () => {
  env = await startClusterEnv();
  caPem = await readFile(env.caFile, 'utf8');
  github = await startGithubStandin({ host: NODE_IP });
  // The stand-in is on the node's private address, which the operator refuses unless allowed.
  githubValues = { config: { operator: { github: { apiUrl: github.url }, egress: { allowedPrivateCidrs: [`${NODE_IP}/32`] } } } };
  const ns = await env.kubectl(['create', 'namespace', TEAM]);
  assert.is(ns.code, 0, ns.stderr);
});

test.after(async () => {
  console.log(`[cluster] figures: ${JSON.stringify(figures)}`);
  await env?.stop();
  await github?.close();
  await minio?.stop();
  await dav?.stop();
  await npm?.close();
});

test('(a) the install namespace enforces Pod Security "restricted": the API server refuses a privileged pod there', async () => {
  const ns = await env.kubectl(['get', 'namespace', NAMESPACE, '-o', `jsonpath={.metadata.labels.${POD_SECURITY_LABEL.replace(/\./g, '\\.')}}`]);
  assert.is(ns.stdout, 'restricted', ns.stderr);
  // So that the install below cannot pass vacuously: what restricted forbids is refused here.
  const privileged = stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'privileged-probe', namespace: NAMESPACE },
    spec: { containers: [{ name: 'c', image: `${TEST_IMAGE_REPOSITORY}:${TEST_IMAGE_TAGS.default}`, securityContext: { privileged: true, runAsUser: 0 } }] },
  });
  const refused = await env.kubectl(['apply', '--dry-run=server', '-f', '-'], privileged);
  assert.is.not(refused.code, 0, 'a privileged pod was admitted');
  assert.match(refused.stderr, /violates PodSecurity "restricted:latest"/);
  assert.match(refused.stderr, /privileged/);
});

test('(a) helm install with default values; a Module applied with kubectl reaches Ready; tofu installs it through the Service', async () => {
  const pvDir = join(env.cluster.dir, 'pv-data');
  const fresh = await stat(pvDir);
  assert.ok(fresh.uid === 0 && fresh.gid === 0 && (fresh.mode & 0o777) === 0o755, "the volume starts as root's, not writable by 65532");
  const installed = await env.install(githubValues);
  figures['helm install --wait ms'] = String(installed.ms);
  for (const component of ['operator', 'server']) {
    const pods = await podsOf(component);
    assert.ok(pods.length > 0 && pods.every((p) => p.status.phase === 'Running'), `${component} pods run`);
  }
  // The chart turns service links off: the kubelet injects no OPENDEPOT_SERVER_* into the pods.
  const server = (await podsOf('server'))[0]!;
  const spec = await env.get<{ spec: { enableServiceLinks?: boolean } }>('pod', server.metadata.name);
  assert.is(spec.spec.enableServiceLinks, false);
  // No root step: no init container at all with default values.
  for (const component of ['operator', 'server']) {
    for (const pod of await podsOf(component)) assert.is((pod.spec as { initContainers?: unknown[] }).initContainers, undefined, `${component} has init containers`);
  }

  addRepo('vpc', ['1.0.0', '1.1.0', '1.1.3', '1.2.0']);
  await env.apply(moduleManifest('vpc', ['1.0.0', '1.1.0', '1.1.3', '1.2.0']));
  await untilModuleReady('vpc');
  assert.is((await moduleOf('vpc')).status?.latestVersion, '1.2.0');
  await assertInstalled('vpc', '~> 1.1.0', '1.1.3');
  // The operator (uid 65532) wrote the archives: the kubelet handed the volume to group 65532.
  const volume = await stat(pvDir);
  assert.is(volume.gid, 65532, 'fsGroup owns the volume');
  const written = (await readdir(pvDir, { recursive: true })).filter((f) => f.endsWith('.blob'));
  assert.ok(written.length >= 4, `archives on the volume: ${written.join(', ')}`);
  for (const file of written) assert.is((await stat(join(pvDir, file))).uid, 65532, `${file} written by uid 65532`);
  await recordMemory('(a)');
});

test('(a) the browse UI of the image: the operator documented the module in the pod (status.docs), and the page through the Service shows its README and output', async () => {
  for (const v of await versionsOf('vpc')) {
    assert.equal((v.status as { docs?: unknown }).docs, { readme: true, inputs: 0, outputs: 1, problems: 0 }, `${v.spec.version} documented`);
  }
  const page = await get(`${await env.baseUrl()}/ui/modules/${TEAM}/vpc/aws?version=1.2.0`);
  assert.is(page.status, 200, page.body.toString());
  const html = page.body.toString();
  assert.match(html, '<code>version</code>');
  assert.match(html, /<h1>vpc 1\.2\.0<\/h1>/);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
});

test("(a) helm test: the chart's own test pod finds the registry through discovery", async () => {
  const out = await env.helm(['test', RELEASE, '-n', NAMESPACE, '--timeout', '2m']);
  assert.match(out, /Phase:\s+Succeeded/, out);
});

test('(a) a pod of the image started after the Service exists (service links on) still starts and ignores them', async () => {
  await env.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'server-with-service-links', namespace: NAMESPACE },
    spec: {
      serviceAccountName: `${RELEASE}-server`,
      // The Kubernetes default: OPENDEPOT_SERVER_PORT=tcp://<cluster IP>:443 and friends are injected.
      enableServiceLinks: true,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'server',
          image: `${TEST_IMAGE_REPOSITORY}:${TEST_IMAGE_TAGS.default}`,
          imagePullPolicy: 'Never',
          command: ['node', '/app/packages/server/dist/main.js', '--config', '/etc/opendepot/config.yaml'],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080, scheme: 'HTTPS' }, periodSeconds: 1 },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/opendepot/config.yaml', subPath: 'config.yaml' },
            { name: 'tls', mountPath: '/etc/opendepot/tls', readOnly: true },
          ],
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: `${RELEASE}-config` } },
        { name: 'tls', secret: { secretName: 'opendepot-tls' } },
      ],
    },
  });
  await until(
    env,
    'the pod with service links Ready',
    async () => {
      const pod = await env.get<{ status: { conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ restartCount: number }> } }>('pod', 'server-with-service-links');
      return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    90_000,
  );
  const logs = await env.kubectl(['logs', '-n', NAMESPACE, 'server-with-service-links']);
  assert.is(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /ignored OPENDEPOT_SERVER_PORT=tcp:\/\/10\.0\.0\.\d+:443/);
  await env.kubectl(['delete', 'pod', 'server-with-service-links', '-n', NAMESPACE, '--wait=false']);
});

test('(c) MinIO storage with presigned downloads', async () => {
  minio = await startMinio({ host: NODE_IP, buckets: ['opendepot'] });
  const secret = await env.kubectl([
    'create',
    'secret',
    'generic',
    'minio-credentials',
    '-n',
    NAMESPACE,
    `--from-literal=AWS_ACCESS_KEY_ID=${minio.accessKeyId}`,
    `--from-literal=AWS_SECRET_ACCESS_KEY=${minio.secretAccessKey}`,
  ]);
  assert.is(secret.code, 0, secret.stderr);
  // The platform's profile holds MinIO's endpoint and Secret; teams name the bucket and region.
  storageProfiles.minio = {
    s3: {
      bucket: 'opendepot',
      region: minio.region,
      endpoint: minio.endpoint,
      forcePathStyle: true,
      credentialsSecretRef: { name: 'minio-credentials' },
      allowedEndpointHosts: [new URL(minio.endpoint).hostname],
    },
    tenantSettable: { bucket: ['opendepot'], region: [minio.region] },
  };
  await env.install(githubValues, { config: { plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }], ...profilesOf('minio') } });
  addRepo('bucket', ['2.0.0', '2.1.0']);
  await env.apply(
    // The announcement's shape: bucket and region, the rest from the profile.
    moduleManifest('bucket', ['2.0.0', '2.1.0'], { storageConfig: { s3: { bucket: 'opendepot', region: minio.region }, presign: { enabled: true, ttl: '5m' } } }),
  );
  await untilModuleReady('bucket');
  // The archive route answers with a redirect to a presigned MinIO URL, which tofu follows.
  const base = await env.baseUrl();
  const downloadUrl = `${base}/opendepot/modules/v1/${TEAM}/bucket/aws/2.1.0/download`;
  const download = await get(downloadUrl);
  assert.is(download.status, 204);
  const archive = await get(new URL(String(download.headers['x-terraform-get']), downloadUrl).href);
  assert.is(archive.status, 307, archive.body.toString());
  const location = String(archive.headers.location);
  assert.ok(location.startsWith(`${minio.endpoint}/opendepot/`) && location.includes('X-Amz-Signature='), `a presigned MinIO URL: ${location}`);
  await assertInstalled('bucket', '~> 2.0', '2.1.0');
  await recordMemory('(c)');
});

test('(d) a third-party plugin named only in Helm values is installed at pod start and stores a Module', async () => {
  dav = await startWebDavServer({ host: NODE_IP });
  npm = await startNpmRegistryStandin({ host: NODE_IP, packages: ['examples/storage-plugin', 'packages/sdk'] });
  const plugin = npm.package('@opendepot-example/storage-webdav');
  storageProfiles.webdav = { webdav: { url: `${dav.url}registry/` } };
  await env.install(githubValues, {
    pluginInstall: { registry: npm.url, packages: [{ name: plugin.name, version: plugin.version, integrity: plugin.integrity }] },
    config: { plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }, { package: plugin.name }], ...profilesOf('minio', 'webdav') },
  });
  addRepo('dns', ['3.0.0']);
  await env.apply(moduleManifest('dns', ['3.0.0'], { storageConfig: { profile: 'webdav' } }));
  await untilModuleReady('dns');
  await assertInstalled('dns', '3.0.0', '3.0.0');
  const stored = await readdir(dav.root, { recursive: true });
  assert.ok(
    stored.some((f) => String(f).includes('dns')),
    `the archive is on the WebDAV server: ${stored.join(', ')}`,
  );
});

test('(b) examples/scanning/values.yaml with the with-trivy image: findings are recorded and HIGH blocks', async () => {
  const scanning = await readFile(join(new URL('../../../examples/scanning/values.yaml', import.meta.url).pathname), 'utf8');
  const { parse } = await import('yaml');
  const installed = await env.install(githubValues, parse(scanning) as object, { image: { tag: TEST_IMAGE_TAGS.withTrivy } });
  figures['helm upgrade to with-trivy ms'] = String(installed.ms);
  addRepo('scanned', ['1.0.0', '1.1.0'], (v) => ({ 'main.tf': v === '1.0.0' ? CLEAN_MODULE_TF : INSECURE_MODULE_TF, 'README.md': `# scanned ${v}\n` }));
  await env.apply(moduleManifest('scanned', ['1.0.0', '1.1.0']));
  await until(
    env,
    'the clean version Ready and the insecure one blocked',
    async () => {
      const versions = await versionsOf('scanned');
      const clean = versions.find((v) => v.spec.version === '1.0.0');
      const insecure = versions.find((v) => v.spec.version === '1.1.0');
      return clean !== undefined && ready(clean) && insecure?.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'ScanBlocked') === true;
    },
    300_000,
  );
  const insecure = (await versionsOf('scanned')).find((v) => v.spec.version === '1.1.0')! as Obj & { status: { scan?: { high?: number; blocked?: boolean } } };
  assert.ok((insecure.status.scan?.high ?? 0) >= 1, JSON.stringify(insecure.status));
  const base = await env.baseUrl();
  const versions = JSON.parse((await get(`${base}/opendepot/modules/v1/${TEAM}/scanned/aws/versions`)).body.toString()) as { modules: Array<{ versions: Array<{ version: string }> }> };
  assert.equal(
    versions.modules[0]!.versions.map((v) => v.version),
    ['1.0.0'],
    'the blocked version is not served',
  );
  await recordMemory('(b)');
});

test('(b2) provider scanning on the node: the trivy database comes from an OCI mirror onto a volume; the vulnerable platform is blocked (binary and source), the fixed one served', async () => {
  const { parse } = await import('yaml');
  const scanning = parse(await readFile(join(new URL('../../../examples/scanning/values.yaml', import.meta.url).pathname), 'utf8')) as object;
  // The mirror: HTTPS on the node's address, with the environment's certificate (its CA in a ConfigMap).
  const mirror = await startTrivyDbRegistryStandin({ host: NODE_IP, tls: { certPem: await readFile(join(env.dir, 'tls.crt'), 'utf8'), keyPem: await readFile(join(env.dir, 'tls.key'), 'utf8') } });
  const upstreamKey = await createSigningKey({ name: 'Upstream publisher' });
  const releases = await startHashicorpReleasesStandin({ signingKey: upstreamKey, host: NODE_IP });
  try {
    const platforms = [{ os: 'linux', arch: 'amd64' }];
    const release = (executables: Map<string, string>) => ({ platforms: platforms.map((p) => ({ ...p, executable: executables.get(`${p.os}_${p.arch}`)! })) });
    await releases.addRelease('terraform-provider-vulnerable', '1.0.0', release(await vulnerableProviderExecutables('1.0.0', platforms)));
    await releases.addRelease('terraform-provider-vulnerable', '1.0.1', release(await vulnerableProviderExecutables('1.0.1', platforms, FIXED_X_TEXT)));
    // The source its release metadata names, on the GitHub stand-in.
    const sourceFiles = Object.fromEntries(await Promise.all((await readdir(VULNERABLE_PROVIDER_SOURCE)).map(async (f) => [f, await readFile(join(VULNERABLE_PROVIDER_SOURCE, f))] as const)));
    github.addRepo('hashicorp', 'terraform-provider-vulnerable', { tags: { 'v1.0.0': sourceFiles, 'v1.0.1': sourceFiles } });
    const ca = await env.kubectl(['create', 'configmap', 'mirror-ca', '-n', NAMESPACE, `--from-file=ca.crt=${env.caFile}`]);
    assert.is(ca.code, 0, ca.stderr);
    // The registry signs what it serves of providers with a key of its own (server.gpg.secretName).
    const registryKey = await createSigningKey({ name: 'OpenDepot registry' });
    await writeFile(join(env.dir, 'registry-key.asc'), registryKey.privateKeyArmored, { mode: 0o600 });
    const gpg = await env.kubectl(['create', 'secret', 'generic', 'registry-gpg', '-n', NAMESPACE, `--from-file=private-key.asc=${join(env.dir, 'registry-key.asc')}`]);
    assert.is(gpg.code, 0, gpg.stderr);
    // A local volume on the node for the cache claim (one node: ReadWriteOnce).
    const cacheDir = join(env.cluster.dir, 'pv-trivy-cache');
    await mkdir(cacheDir, { recursive: true, mode: 0o755 });
    await chown(cacheDir, 0, 0);
    await env.apply({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'opendepot-trivy-cache' },
      spec: {
        capacity: { storage: '5Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        local: { path: cacheDir },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [env.cluster.nodeName] }] }] } },
      },
    });
    const providerValues = {
      config: { operator: { providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [upstreamKey.publicKeyArmored], allowInsecureHttp: true } } },
      trivyDatabase: { enabled: true, repository: mirror.dbRepository, caConfigMap: { name: 'mirror-ca', key: 'ca.crt' }, persistence: { accessModes: ['ReadWriteOnce'] } },
      server: { gpg: { secretName: 'registry-gpg' } },
    };
    const installed = await env.install(githubValues, scanning, providerValues, { image: { tag: TEST_IMAGE_TAGS.withTrivy } });
    figures['helm upgrade with trivyDatabase ms'] = String(installed.ms);
    assert.ok(
      mirror.requests.some((r) => r.url.includes('/blobs/') && r.status === 200),
      `the operator's init container pulled the database: ${JSON.stringify(mirror.requests.map((r) => r.url))}`,
    );

    await env.apply({
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Provider',
      metadata: { name: 'vulnerable', namespace: TEAM },
      spec: { providerConfig: { name: 'vulnerable', operatingSystems: ['linux'], architectures: ['amd64'] }, versions: [{ version: '1.0.0' }, { version: '1.0.1' }] },
    });
    type ScannedVersion = Obj & { status: { scan?: { high?: number; blocked?: boolean; database?: { downloadedAt?: string }; findings?: { id: string }[] } } };
    let versions: ScannedVersion[] = [];
    await until(
      env,
      'the vulnerable provider blocked and the fixed one Ready',
      async () => {
        versions = (await versionsOf('vulnerable')) as ScannedVersion[];
        const v100 = versions.find((v) => v.spec.version === '1.0.0');
        const v101 = versions.find((v) => v.spec.version === '1.0.1');
        return v101 !== undefined && ready(v101) && v100?.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'ScanBlocked') === true;
      },
      300_000,
    );
    const blocked = versions.find((v) => v.spec.version === '1.0.0')!;
    assert.equal(
      blocked.status.scan?.findings?.map((f) => f.id),
      ['CVE-2022-32149'],
    );
    assert.ok(blocked.status.scan?.database?.downloadedAt, 'the scan names the downloaded database');
    await until(env, "the Provider's findings merged from the binary and the source", async () => {
      const provider = await env.get<{ status?: { scan?: { findings?: { id: string; from: string }[]; sources?: { state: string }[] } } }>('provider', 'vulnerable', TEAM);
      return provider.status?.scan?.findings?.some((f) => f.id === 'CVE-2022-32149' && f.from === 'both') === true && provider.status.scan.sources?.every((s) => s.state === 'Scanned') === true;
    });
    const tf = `terraform {\n  required_providers {\n    vulnerable = {\n      source  = "${HOST}/${TEAM}/vulnerable"\n    }\n  }\n}\n`;
    const init = await env.tofu(tf);
    assert.is(init.code, 0, init.output);
    assert.match(init.output, new RegExp(`Installed .*vulnerable v1\\.0\\.1 \\(.*key ID ${registryKey.keyId}\\)`), 'only the fixed version is offered, signed by the registry');

    // The CronJob, run now: it refreshes the database from the mirror into the volume.
    const pulls = mirror.requests.filter((r) => r.url.includes('/blobs/')).length;
    const cronJob = (await env.kubectl(['get', 'cronjobs', '-n', NAMESPACE, '-l', 'app.kubernetes.io/component=trivy-database', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    assert.ok(cronJob, 'the chart made the CronJob');
    const job = await env.kubectl(['create', 'job', 'trivy-db-now', '-n', NAMESPACE, `--from=cronjob/${cronJob}`]);
    assert.is(job.code, 0, job.stderr);
    const done = await env.kubectl(['wait', '-n', NAMESPACE, '--for=condition=complete', 'job/trivy-db-now', '--timeout=180s']);
    assert.is(done.code, 0, `${done.stdout}${done.stderr}`);
    assert.ok(mirror.requests.filter((r) => r.url.includes('/blobs/')).length > pulls, 'the CronJob pulled the database again');
    await recordMemory('(b2)');
  } finally {
    await env.kubectl(['delete', 'job', 'trivy-db-now', '-n', NAMESPACE, '--ignore-not-found']);
    await releases.close();
    await mirror.close();
  }
});

test('(e) helm upgrade to a new image tag keeps serving: no failed request during the rollout', async () => {
  await env.cluster.tagImage(`${TEST_IMAGE_REPOSITORY}:${TEST_IMAGE_TAGS.default}`, `${TEST_IMAGE_REPOSITORY}:test-b`);
  const base = await env.baseUrl();
  const url = `${base}/opendepot/modules/v1/${TEAM}/vpc/aws/versions`;
  let requests = 0;
  const failures: string[] = [];
  let running = true;
  const load = (async () => {
    while (running) {
      requests++;
      try {
        const r = await get(url);
        if (r.status !== 200) failures.push(`${r.status} ${r.body.toString().slice(0, 200)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const before = new Set((await podsOf('server')).map((p) => p.metadata.name));
  const upgraded = await env.install(githubValues, {
    config: { plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }], ...profilesOf('minio') },
    image: { tag: 'test-b' },
  });
  // The load goes on until the old pods have finished terminating (preStop, graceful stop), and a little after.
  await until(env, 'the old server pods to be gone', async () => (await podsOf('server')).every((p) => !before.has(p.metadata.name)), 120_000);
  await new Promise((r) => setTimeout(r, 2_000));
  running = false;
  await load;
  figures['upgrade ms'] = String(upgraded.ms);
  figures['requests during upgrade'] = String(requests);
  figures['failed requests during upgrade'] = String(failures.length);
  const after = await podsOf('server');
  assert.ok(
    after.every((p) => !before.has(p.metadata.name) && p.spec.containers[0]!.image.endsWith(':test-b')),
    'every server pod was replaced by one of the new tag',
  );
  assert.ok(requests > 50, `enough requests were made during the rollout (${requests})`);
  assert.equal(failures, [], `no request failed during the upgrade (${failures.length} of ${requests})`);
});

test('(f) the operator leader killed mid-sync: the new leader finishes and nothing partial is served', async () => {
  await env.install(githubValues, { operator: { replicas: 2 }, image: { tag: 'test-b' } });
  // A slow upstream: every archive arrives in two halves 6 s apart, so the kill lands mid-download.
  github.stallArchives(6_000);
  const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0', '1.7.0'];
  addRepo('eks', versions, (v) => moduleFiles('eks', v, { 'blob.bin': randomBytes(256 * 1024).toString('base64') }));
  await env.apply(moduleManifest('eks', versions));
  const base = await env.baseUrl();
  // While it syncs, whatever the server lists must download whole, with the recorded checksum.
  let syncing = true;
  const listed = new Set<string>();
  const watcher = (async () => {
    while (syncing) {
      const r = await get(`${base}/opendepot/modules/v1/${TEAM}/eks/aws/versions`).catch(() => undefined);
      if (r?.status === 200) for (const v of (JSON.parse(r.body.toString()) as { modules: Array<{ versions: Array<{ version: string }> }> }).modules[0]?.versions ?? []) listed.add(v.version);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await until(
    env,
    'a fetch to be under way',
    async () => (await versionsOf('eks')).length === versions.length && github.requests.some((r) => r.url.startsWith('/codeload/acme/terraform-aws-eks/')),
    60_000,
  );
  const lease = await env.get<{ spec: { holderIdentity?: string } }>('lease', 'opendepot-operator');
  const leader = lease.spec.holderIdentity ?? '';
  const leaderPod = (await podsOf('operator')).find((p) => leader.includes(p.metadata.name));
  assert.ok(leaderPod, `the Lease holder ${leader} is an operator pod`);
  const readyBefore = (await versionsOf('eks')).filter(ready).length;
  const killed = await env.kubectl(['delete', 'pod', leaderPod!.metadata.name, '-n', NAMESPACE, '--grace-period=0', '--force']);
  assert.is(killed.code, 0, killed.stderr);
  figures['versions Ready when the leader was killed'] = `${readyBefore}/${versions.length}`;
  assert.ok(readyBefore < versions.length, 'the leader was killed before the sync finished');
  await untilModuleReady('eks', 300_000);
  syncing = false;
  await watcher;
  github.stallArchives(0);
  const newLease = await env.get<{ spec: { holderIdentity?: string } }>('lease', 'opendepot-operator');
  assert.not.ok(newLease.spec.holderIdentity?.includes(leaderPod!.metadata.name), 'another pod holds the Lease');
  assert.is(await assertServedBytesMatch('eks'), versions.length);
  assert.ok(
    [...listed].every((v) => versions.includes(v)),
    `only real versions were listed: ${[...listed].join(', ')}`,
  );
  await assertInstalled('eks', '~> 1.6.0', '1.6.0');
});

test('(h) access control with Dex: no token is a 401, a Dex login through the form installs the granted module and not another', async () => {
  const started = Date.now();
  await env.cluster.importImage(await buildDexImage());
  // Dex on a NodePort of the node's address: the issuer users' browsers (here, this process) reach;
  // the server reaches it through its Service (internalIssuerUrl), as the chart wires it.
  const dexPort = (await env.nodePort()) === 30556 ? 30557 : 30556;
  const issuer = `http://${NODE_IP}:${dexPort}/dex`;
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'GroupBinding',
    metadata: { name: 'platform-readers', namespace: TEAM },
    spec: { expression: '"platform-readers" in groups', moduleResources: ['vpc'] },
  });
  const installed = await env.install(githubValues, {
    image: { tag: 'test-b' },
    auth: { anonymous: { enabled: false } },
    dex: {
      enabled: true,
      issuer,
      image: { repository: DEX_IMAGE.repository, tag: DEX_IMAGE.tag, pullPolicy: 'Never' },
      service: { type: 'NodePort', nodePort: dexPort },
      staticPasswords: [{ email: 'alice@example.com', hash: DEX_PASSWORD_HASH, username: 'alice', userID: '7f9c1c55-3f7e-4d5a-9d1e-2c1b0c9a8e11', groups: ['platform-readers'] }],
    },
  });
  figures['helm upgrade with Dex ms'] = String(installed.ms);
  const base = await env.baseUrl();
  const versionsUrl = (name: string) => `${base}/opendepot/modules/v1/${TEAM}/${name}/aws/versions`;
  // Discovery stays public and carries login.v1 with the chart's client and the public issuer.
  // A terminating pod of the previous release (no Dex) may still answer just after the upgrade:
  // wait for several answers with login.v1 in a row, as for the 401s below.
  type Discovery = { 'login.v1'?: { client: string; authz: string; token: string; ports: number[]; scopes: string[] } };
  let discovery: Discovery = {};
  let withLoginInARow = 0;
  await until(
    env,
    'every server replica offers login.v1',
    async () => {
      const answer = await get(`${base}/.well-known/terraform.json`);
      discovery = answer.status === 200 ? (JSON.parse(answer.body.toString()) as Discovery) : {};
      withLoginInARow = discovery['login.v1'] ? withLoginInARow + 1 : 0;
      return withLoginInARow >= 4;
    },
    60_000,
  );
  const login = discovery['login.v1'];
  assert.ok(login, `discovery has no login.v1: ${JSON.stringify(discovery)}`);
  assert.equal(
    { client: login.client, authz: login.authz, token: login.token, ports: login.ports },
    { client: 'opendepot-cli', authz: `${issuer}/auth`, token: `${issuer}/token`, ports: [10000, 10010] },
  );
  // Pods of the previous release (anonymous on) may answer until the rollout has replaced them all:
  // wait for several refusals in a row, then the answer must stay a 401.
  let refusedInARow = 0;
  await until(
    env,
    'every server replica refuses a request without a token',
    async () => {
      refusedInARow = (await get(versionsUrl('vpc'))).status === 401 ? refusedInARow + 1 : 0;
      return refusedInARow >= 4;
    },
    60_000,
  );
  const anonymous = await get(versionsUrl('vpc'));
  assert.is(anonymous.status, 401, anonymous.body.toString());
  // The CLI's half of tofu login with the browser's: Dex's password form, PKCE, the code exchange.
  const accessToken = await dexAccessToken(login, { clientId: login.client, scopes: login.scopes, port: login.ports[0]! });
  const bearer = { authorization: `Bearer ${accessToken}` };
  // The GroupBinding reaches the servers' informers shortly after they start.
  await until(env, 'the GroupBinding grants vpc', async () => (await get(versionsUrl('vpc'), bearer)).status === 200, 60_000);
  const refused = await get(versionsUrl('eks'), bearer);
  assert.is(refused.status, 403, refused.body.toString());
  const token = { TF_TOKEN_opendepot_test: accessToken };
  await assertInstalled('vpc', '~> 1.1.0', '1.1.3', token);
  const denied = await env.tofu(moduleTf('eks', '~> 1.6.0'), undefined, token);
  assert.is.not(denied.code, 0, denied.output);
  assert.match(denied.output, /403|forbidden|not allowed/i);
  const withoutToken = await env.tofu(moduleTf('vpc', '~> 1.1.0'));
  assert.is.not(withoutToken.code, 0, withoutToken.output);
  // Dex runs in the install namespace, which enforces Pod Security "restricted" (see (a)).
  const dexPods = await env.kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=dex', '-o', 'jsonpath={.items[*].status.phase}']);
  assert.is(dexPods.stdout, 'Running', dexPods.stderr);
  figures['(h) access control with Dex ms'] = String(Date.now() - started);
});

test('(g) helm uninstall removes everything but the CRDs and the stored data', async () => {
  await env.helm(['uninstall', RELEASE, '-n', NAMESPACE, '--wait', '--timeout', '3m']);
  const left = await env.kubectl([
    'get',
    'deployments,replicasets,services,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets',
    '-n',
    NAMESPACE,
    '-l',
    `app.kubernetes.io/instance=${RELEASE}`,
    '-o',
    'name',
  ]);
  assert.is(left.stdout.trim(), '', `namespaced objects left: ${left.stdout}`);
  const clusterLeft = await env.kubectl(['get', 'clusterroles,clusterrolebindings', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
  assert.is(clusterLeft.stdout.trim(), '', `cluster objects left: ${clusterLeft.stdout}`);
  await until(env, 'the pods to be gone', async () => (await podsOf('server')).length + (await podsOf('operator')).length === 0, 90_000);
  const crds = await env.kubectl(['get', 'crds', '-o', 'name']);
  for (const plural of ['modules', 'versions', 'providers', 'depots', 'groupbindings']) assert.match(crds.stdout, `${plural}.opendepot.defdev.io`);
  assert.ok((await versionsOf('vpc')).length > 0, 'the Versions (the record of what is stored) stay');
  const pvc = await env.kubectl(['get', 'pvc', '-n', NAMESPACE, '-o', 'name']);
  assert.match(pvc.stdout, /persistentvolumeclaim\//, 'the data volume claim is kept');
  const files = await readdir(join(env.cluster.dir, 'pv-data'), { recursive: true });
  assert.ok(files.length > 0, 'the stored archives stay on the volume');
});

test.run();
