/**
 * Immutable Modules end to end, all real: MinIO (S3, presigned URLs), the GitHub stand-in as the
 * upstream, the operator and the server against the shared kube-apiserver. Only an immutable
 * archive's bytes are frozen: a presign change takes effect on Versions that are already Ready,
 * a new storage location gets the recorded bytes copied from the old one, a partial presign block refines
 * the defaults field by field, and a tag moved upstream is seen at the Module by the periodic
 * verify, without forceSync, while the stored archive stays served.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startGithubStandin, startMinio, trustCaInProcess, type GithubStandin, type Minio } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { moduleFiles, ready, type Condition, type Obj } from './support/resources.ts';

const VERSIONS = ['1.0.0', '1.1.0'];
const BUCKET = 'opendepot-e2e';
/** The bucket a Module moves its archives to. */
const NEW_BUCKET = 'opendepot-e2e-moved';
const SECRET = 'minio-credentials';

interface OwnerStatus {
  conditions?: Condition[];
  progress?: string;
  integrity?: string;
  integrityProblems?: { version: string; reason: string; served?: boolean; message?: string }[];
}

let minio: Minio;
let github: GithubStandin;
let env: RegistryEnv;

const s3Config = () => ({
  bucket: BUCKET,
  region: minio.region,
  prefix: 'archives/',
  endpoint: minio.endpoint,
  forcePathStyle: true,
  credentialsSecretRef: { name: SECRET },
  allowedEndpointHosts: [new URL(minio.endpoint).hostname],
});

const moduleManifest = (name: string, repo: string, storageConfig?: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: {
    moduleConfig: { name, provider: 'aws', repoOwner: 'acme', repoUrl: `https://github.com/acme/${repo}`, fileFormat: 'zip', immutable: true },
    ...(storageConfig && { storageConfig }),
    versions: VERSIONS.map((version) => ({ version })),
  },
});

const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: (Obj & { spec: { storageConfig?: Record<string, unknown>; forceSync?: boolean } })[] }).items;
};
const checksums = async (module: string) => Object.fromEntries((await versionsOf(module)).map((v) => [v.spec.version!, v.status?.checksum]));
const patchModule = async (name: string, patch: object) => {
  const r = await env.kubectl(['patch', 'module', name, '-n', env.namespace, '--type', 'merge', '-p', JSON.stringify(patch)]);
  assert.is(r.code, 0, r.stderr);
};
const eventsOf = async (name: string) => {
  const r = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: { reason: string; type: string; message: string }[] }).items;
};

/** What the archive route of `module` `version` answers: a redirect (its Location) or the proxied bytes. */
async function archiveAnswer(module: string, version: string): Promise<{ status: number; location?: URL; body?: Buffer }> {
  const base = `${env.server.listening.url}/opendepot/modules/v1/${env.namespace}/${module}/aws/${version}/`;
  const download = await fetch(`${base}download`);
  assert.is(download.status, 204);
  const answer = await fetch(new URL(download.headers.get('x-terraform-get')!, `${base}download`), { redirect: 'manual' });
  if (answer.status === 307) return { status: 307, location: new URL(answer.headers.get('location')!) };
  return { status: answer.status, body: Buffer.from(await answer.arrayBuffer()) };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test.before(async () => {
  minio = await startMinio({ buckets: [BUCKET, NEW_BUCKET] });
  github = await startGithubStandin();
  for (const repo of ['terraform-aws-net', 'terraform-aws-moved']) github.addRepo('acme', repo, { releases: VERSIONS.map((v) => ({ tag: `v${v}`, files: moduleFiles(v, repo) })) });
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }],
      operator: { github: { apiUrl: github.url } },
      storage: {
        profiles: {
          // No presign of its own: the chart-wide default (a TTL only, so presigning off) applies.
          minio: { s3: s3Config(), tenantSettable: { bucket: ['opendepot-e2e-*'] } },
          // Presigning on for 5 minutes, as a platform would set it for a team.
          'minio-presigned': { s3: s3Config(), presign: { enabled: true, ttl: '5m' } },
        },
      },
    },
    // The chart's server.presign: only a TTL; every field a layer above leaves out comes from here.
    serverConfig: () => ({ presign: { ttl: '10m' } }),
    // Every 2 s: the stored bytes are hashed again and immutable Versions compared with their upstream.
    verifyIntervalSeconds: 2,
  });
  const created = await env.kubectl([
    'create',
    'secret',
    'generic',
    SECRET,
    '-n',
    env.namespace,
    `--from-literal=AWS_ACCESS_KEY_ID=${minio.accessKeyId}`,
    `--from-literal=AWS_SECRET_ACCESS_KEY=${minio.secretAccessKey}`,
  ]);
  assert.is(created.code, 0, created.stderr);
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  await env.apply(
    moduleManifest('serving', 'terraform-aws-net', { profile: 'minio' }),
    moduleManifest('partial', 'terraform-aws-net', { profile: 'minio-presigned', presign: { ttl: '3m' } }),
    // The default profile: the environment's filesystem storage.
    moduleManifest('moved', 'terraform-aws-moved'),
  );
});

test.after(async () => {
  await env?.stop();
  await github?.close();
  await minio?.stop();
});

test('the immutable Modules become Ready 2/2 and the Integrity column says Verified', async () => {
  for (const name of ['serving', 'partial', 'moved']) {
    const module = await eventually(
      `Module ${name} Ready`,
      async () => {
        const m = await env.get<Obj & { status?: OwnerStatus }>('module', name);
        return ready(m) && m.status?.progress === '2/2' ? m : undefined;
      },
      120_000,
    );
    assert.is(module.status?.integrity, 'Verified');
    assert.equal(module.status?.integrityProblems, []);
  }
  const table = await env.kubectl(['get', 'modules', '-n', env.namespace]);
  assert.match(table.stdout, /NAME\s+READY\s+LATEST\s+SYNCED\s+INTEGRITY\s+AGE/);
  assert.match(table.stdout, /serving\s+True\s+1\.1\.0\s+2\/2\s+Verified/);
});

test('immutable and Ready: turning presign on and off again at the Module takes effect on its Versions at once, bytes untouched', async () => {
  const before = await checksums('serving');
  const proxied = await archiveAnswer('serving', '1.1.0');
  assert.is(proxied.status, 200, 'presigning is off: the chart default sets a TTL only');
  assert.is(sha256(proxied.body!), before['1.1.0']);

  await patchModule('serving', { spec: { storageConfig: { presign: { enabled: true } } } });
  const redirect = await eventually(
    'the archive route redirects',
    async () => {
      const a = await archiveAnswer('serving', '1.1.0');
      return a.status === 307 ? a : undefined;
    },
    30_000,
  );
  assert.is(redirect.location!.origin, minio.endpoint);
  // enabled from the Module, the TTL from the chart's server.presign: field by field.
  assert.is(redirect.location!.searchParams.get('X-Amz-Expires'), '600');
  const object = await fetch(redirect.location!);
  assert.is(object.status, 200);
  assert.is(sha256(Buffer.from(await object.arrayBuffer())), before['1.1.0']);
  for (const v of await versionsOf('serving')) {
    assert.equal(v.spec.storageConfig?.presign, { enabled: true }, `${v.metadata.name} follows its Module`);
    assert.ok(ready(v));
  }

  await patchModule('serving', { spec: { storageConfig: { presign: { enabled: false } } } });
  const back = await eventually(
    'the archive route proxies again',
    async () => {
      const a = await archiveAnswer('serving', '1.0.0');
      return a.status === 200 ? a : undefined;
    },
    30_000,
  );
  assert.is(sha256(back.body!), before['1.0.0']);
  assert.equal(await checksums('serving'), before, 'the recorded bytes never changed');
  const stored = (await eventsOf('serving-1.1.0')).filter((e) => e.reason === 'ArchiveStored');
  assert.is(stored.length, 1, 'stored once, never again');
});

test('immutable and Ready: a new bucket gets the recorded bytes copied from the old one, and downloads come from it', async () => {
  const before = await checksums('serving');
  await patchModule('serving', { spec: { storageConfig: { s3: { bucket: NEW_BUCKET } } } });
  const keys = await eventually(
    'both archives in the new bucket',
    async () => {
      const k = (await minio.listObjects(NEW_BUCKET)).filter((key) => key.endsWith('.zip'));
      return k.length === 2 ? k : undefined;
    },
    60_000,
  );
  assert.is(keys.length, 2);
  const versions = await eventually(
    'the Versions Ready at the new location',
    async () => {
      const vs = await versionsOf('serving');
      return vs.every((v) => ready(v) && (v.spec.storageConfig?.s3 as { bucket?: string } | undefined)?.bucket === NEW_BUCKET) ? vs : undefined;
    },
    30_000,
  );
  for (const v of versions) assert.is(v.status?.checksum, before[v.spec.version!], 'the same bytes, by their recorded sha256');
  const answer = await archiveAnswer('serving', '1.1.0');
  assert.is(answer.status, 200);
  assert.is(sha256(answer.body!), before['1.1.0']);
  const moduleEvents = (await eventsOf('serving')).map((e) => e.reason);
  assert.ok(moduleEvents.includes('StorageChanged'), moduleEvents.join(', '));
  // Copied from the old bucket (the recorded bytes, not a new download), then the old place is forgotten.
  const versionEvents = await eventsOf('serving-1.1.0');
  assert.ok(
    versionEvents.some((e) => e.reason === 'StorageChanged' && e.message.startsWith('copied the archive of 1.1.0 from its previous storage location')),
    JSON.stringify(versionEvents),
  );
  assert.not.ok(versionEvents.some((e) => e.reason === 'TamperDetected'));
  await eventually(
    'the previous-storage annotation removed',
    async () => {
      const vs = await versionsOf('serving');
      return vs.every((v) => !(v.metadata as { annotations?: Record<string, string> }).annotations?.['opendepot.defdev.io/previous-storage-config']);
    },
    30_000,
  );
});

test('a partial presign block refines the defaults: {ttl: 3m} on a presigning profile keeps presigning on, for 3 minutes', async () => {
  const answer = await archiveAnswer('partial', '1.1.0');
  assert.is(answer.status, 307, 'enabled comes from the profile');
  assert.is(answer.location!.searchParams.get('X-Amz-Expires'), '180', 'the TTL from the Module');
  assert.is(answer.location!.origin, minio.endpoint);
});

test('a tag moved upstream is seen at the Module by the periodic verify, without forceSync; the stored archive stays served', async () => {
  const before = await checksums('moved');
  github.addTag('acme', 'terraform-aws-moved', 'v1.0.0', moduleFiles('1.0.0', 'a moved tag: other bytes'));
  const module = await eventually(
    'the Module reports the moved tag',
    async () => {
      const m = await env.get<Obj & { status?: OwnerStatus }>('module', 'moved');
      return m.status?.conditions?.some((c) => c.type === 'UpstreamChanged' && c.status === 'True') ? m : undefined;
    },
    60_000,
  );
  const changed = module.status!.conditions!.find((c) => c.type === 'UpstreamChanged')!;
  assert.is(changed.reason, 'ImmutableViolation');
  assert.match(changed.message, /1\.0\.0/);
  assert.match(changed.message, /kept and still served/);
  assert.ok(ready(module), 'still Ready: every version is served');
  assert.is(module.status?.progress, '2/2');
  assert.is(module.status?.integrity, 'UpstreamChanged: 1.0.0');
  assert.equal(
    module.status?.integrityProblems?.map((p) => [p.version, p.reason, p.served]),
    [['1.0.0', 'ImmutableViolation', true]],
  );
  const table = await env.kubectl(['get', 'modules', 'moved', '-n', env.namespace]);
  assert.match(table.stdout, /moved\s+True\s+1\.1\.0\s+2\/2\s+UpstreamChanged: 1\.0\.0/);
  const warnings = (await eventsOf('moved')).filter((e) => e.type === 'Warning' && e.reason === 'ImmutableViolation');
  assert.ok(warnings.length > 0, 'a Warning Event on the Module');

  const [v] = (await versionsOf('moved')).filter((x) => x.spec.version === '1.0.0');
  assert.not.ok(v!.spec.forceSync, 'nobody set forceSync');
  assert.is(v!.status?.checksum, before['1.0.0']);
  assert.ok(v!.status?.conditions?.some((c) => c.type === 'UpstreamChanged' && c.status === 'True' && /now has sha256 [0-9a-f]{64}, not the recorded/.test(c.message)));
  const served = await archiveAnswer('moved', '1.0.0');
  assert.is(served.status, 200);
  assert.is(sha256(served.body!), before['1.0.0'], 'the stored archive, not the moved tag');

  // The tag put back: the next comparison clears the problem.
  github.addTag('acme', 'terraform-aws-moved', 'v1.0.0', moduleFiles('1.0.0', 'terraform-aws-moved'));
  const cleared = await eventually(
    'the Module Verified again',
    async () => {
      const m = await env.get<Obj & { status?: OwnerStatus }>('module', 'moved');
      return m.status?.integrity === 'Verified' ? m : undefined;
    },
    60_000,
  );
  assert.not.ok(cleared.status?.conditions?.some((c) => c.type === 'UpstreamChanged'));
});

test.run();
