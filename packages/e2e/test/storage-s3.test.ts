/**
 * S3 storage end to end, all real: MinIO (a real S3 implementation, built from the Go module
 * proxy), the operator and the server loading `@opendepot/plugin-s3` from configuration with
 * credentials from a Kubernetes Secret made with kubectl, and the real `tofu init`. With presign
 * on, the server answers 307 to a presigned MinIO URL and tofu downloads from MinIO; with
 * presign off the server proxies; with a backend that cannot presign (plugin-fs) and
 * `fallbackToProxy: false`, tofu fails with the server's clear error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { s3Schema } from '@opendepot/core';
import plugin, { S3Storage, configSchema } from '@opendepot/plugin-s3';
import { createGitRepo, startMinio, trustCaInProcess, type ClientRun, type Minio } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { archiveGets, assertProxiedAndVerified, moduleFiles, ready, type AccessLine, type Obj } from './support/resources.ts';

const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];
const BUCKET = 'opendepot-e2e';
const PREFIX = 'archives/';
const SECRET = 'minio-credentials';
/** A bucket a team picks itself, which the platform's profile allows by pattern. */
const TEAM_BUCKET = 'opendepot-e2e-team';

let minio: Minio;
let env: RegistryEnv;
/** Reads MinIO directly, with the same plugin, to check what the operator stored. */
let direct: S3Storage;

/** The platform's profile: MinIO's endpoint, its Secret, and the one host credentials may go to. */
const s3Config = () => ({
  bucket: BUCKET,
  region: minio.region,
  prefix: PREFIX,
  endpoint: minio.endpoint,
  forcePathStyle: true,
  credentialsSecretRef: { name: SECRET },
  allowedEndpointHosts: [new URL(minio.endpoint).hostname],
});

const moduleManifest = (name: string, repoUrl: string, storageConfig: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl, fileFormat: 'zip', immutable: true }, storageConfig, versions: VERSIONS.map((version) => ({ version })) },
});

const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};

const tofuInit = (module: string): Promise<ClientRun> => env.client('tofu', `module "${module}" {\n  source  = "${HOST}/${env.namespace}/${module}/aws"\n  version = "~> 1.2.0"\n}\n`);

/** The server's access-log lines of GETs of `module`'s archives. */

/** Asserts tofu installed 1.2.5 of `module` for `~> 1.2.0`. */
async function assertInstalled(run: ClientRun, module: string): Promise<void> {
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === module);
  assert.is(entry?.Version, '1.2.5', run.output);
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
}

test.before(async () => {
  minio = await startMinio({ buckets: [BUCKET, TEAM_BUCKET] });
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }],
      // Storage is platform policy: teams may pick an opendepot-* bucket in MinIO's region, nothing else.
      storage: { profiles: { minio: { s3: s3Config(), presign: { enabled: true, ttl: '5m' }, tenantSettable: { bucket: ['opendepot-*'], region: [minio.region] } } } },
    },
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
  direct = new S3Storage(s3Config(), { credentials: async () => ({ accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey }) });

  const repo = await createGitRepo(join(env.dir, 's3-repo'), { tags: Object.fromEntries(VERSIONS.map((v) => [`v${v}`, moduleFiles(v, 'S3 (MinIO)')])) });
  await env.apply(
    // The profile's presign default (on, 5 minutes) applies.
    moduleManifest('presigned', repo.url, { profile: 'minio' }),
    // The announcement's shape: bucket and region only, the rest from the profile.
    moduleManifest('proxied', repo.url, { s3: { bucket: BUCKET, region: minio.region }, presign: { enabled: false } }),
    moduleManifest('team-bucket', repo.url, { s3: { bucket: TEAM_BUCKET, region: minio.region }, presign: { enabled: false } }),
    // plugin-fs has no presigned URLs, and this Module forbids proxying.
    moduleManifest('unsignable', repo.url, { filesystem: { path: env.storagePath }, presign: { enabled: true, fallbackToProxy: false } }),
  );
});

test.after(async () => {
  await direct?.close();
  await env?.stop();
  await minio?.stop();
});

test("the plugin's config schema is the CRD's s3 block plus the platform-only allowedEndpointHosts", () => {
  const crd = s3Schema.json as { properties: Record<string, Record<string, unknown>>; required?: string[] };
  const ours = configSchema as { properties: Record<string, Record<string, unknown>>; required?: string[] };
  assert.equal(Object.keys(ours.properties), [...Object.keys(crd.properties), 'allowedEndpointHosts']);
  // The CRD requires nothing (the profile supplies it); the merged config needs bucket and region.
  assert.equal(crd.required, undefined);
  assert.equal(ours.required, ['bucket', 'region']);
  for (const [name, p] of Object.entries(crd.properties)) {
    const mine = ours.properties[name]!;
    for (const keyword of ['type', 'pattern', 'maxLength', 'required']) assert.equal(mine[keyword], p[keyword], `${name}.${keyword}`);
  }
  const ref = (crd.properties.credentialsSecretRef as { properties: Record<string, Record<string, unknown>> }).properties.name!;
  const mineRef = (ours.properties.credentialsSecretRef as { properties: Record<string, Record<string, unknown>> }).properties.name!;
  assert.equal([mineRef.pattern, mineRef.maxLength], [ref.pattern, ref.maxLength]);
  assert.is(plugin.name, 's3');
});

test('the Modules become Ready with 4/4 synced; each S3 archive is an object in MinIO with its checksum as metadata', async () => {
  for (const name of ['presigned', 'proxied', 'unsignable', 'team-bucket']) {
    const module = await eventually(
      `Module ${name} Ready`,
      async () => {
        const m = await env.get<Obj>('module', name);
        return ready(m) ? m : undefined;
      },
      120_000,
    );
    assert.is(module.status?.progress, '4/4');
  }
  const keys = await minio.listObjects(BUCKET);
  for (const name of ['presigned', 'proxied']) {
    const versions = await versionsOf(name);
    assert.is(versions.length, 4);
    for (const v of versions) {
      const storageKey = v.status!.storageKey!;
      assert.ok(keys.includes(`${PREFIX}${storageKey}`), `${PREFIX}${storageKey} in ${keys.join(', ')}`);
      const info = await direct.stat(storageKey);
      assert.is(info.sha256, v.status?.checksum, `${v.metadata.name}: x-amz-meta-sha256`);
      assert.is(info.size, v.status?.size, `${v.metadata.name}: size`);
    }
  }
  assert.equal(
    keys.filter((k) => !k.startsWith(PREFIX) || k.startsWith(`${PREFIX}.opendepot-uploads/`)),
    [],
    'nothing outside the prefix, no upload left',
  );
  // The team's bucket holds its 4 archives, under the profile's prefix.
  const teamKeys = (await minio.listObjects(TEAM_BUCKET)).filter((k) => k.endsWith('.zip'));
  assert.equal(teamKeys.sort(), (await versionsOf('team-bucket')).map((v) => `${PREFIX}${v.status!.storageKey!}`).sort());
});

test('presign on: tofu init gets 1.2.5 for "~> 1.2.0" through a 307 to a presigned MinIO URL', async () => {
  const run = await tofuInit('presigned');
  await assertInstalled(run, 'presigned');
  const gets = archiveGets(env, 'presigned');
  assert.ok(gets.length > 0, 'the server saw the archive download');
  for (const line of gets) {
    assert.is(line.status, 307, JSON.stringify(line));
    assert.is(line.outcome, 'presigned');
  }
});

test('the redirect points at that one object in MinIO, signed for 5 minutes, and MinIO serves the recorded bytes', async () => {
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  const base = `${env.server.listening.url}/opendepot/modules/v1/${env.namespace}/presigned/aws/1.2.5/`;
  const download = await fetch(`${base}download`);
  assert.is(download.status, 204);
  const archiveUrl = new URL(download.headers.get('x-terraform-get')!, `${base}download`);
  const redirect = await fetch(archiveUrl, { redirect: 'manual' });
  assert.is(redirect.status, 307);
  const location = new URL(redirect.headers.get('location')!);
  const [v] = (await versionsOf('presigned')).filter((x) => x.spec.version === '1.2.5');
  assert.is(location.origin, minio.endpoint);
  assert.is(decodeURIComponent(location.pathname), `/${BUCKET}/${PREFIX}${v!.status!.storageKey!}`);
  assert.is(location.searchParams.get('X-Amz-Expires'), '300');
  assert.ok(location.searchParams.get('X-Amz-Signature'));
  assert.not.ok(redirect.headers.get('location')!.includes(minio.secretAccessKey));
  const object = await fetch(location);
  assert.is(object.status, 200);
  const bytes = Buffer.from(await object.arrayBuffer());
  const { createHash } = await import('node:crypto');
  assert.is(createHash('sha256').update(bytes).digest('hex'), v!.status?.checksum);
  assert.match(object.headers.get('content-disposition') ?? '', /^attachment; filename=".+\.zip"$/);
});

test('presign off: tofu init gets 1.2.5 proxied by the server (200 from the archive route), verified on the way', async () => {
  const run = await tofuInit('proxied');
  await assertInstalled(run, 'proxied');
  assertProxiedAndVerified(env, 'proxied');
});

test('a backend that cannot presign, with fallbackToProxy false: tofu fails with a clear error and nothing is proxied', async () => {
  const run = await tofuInit('unsignable');
  assert.is.not(run.code, 0, run.output);
  // go-getter prints the status, not the body; the body and the server's log say why.
  assert.match(run.output, /Error: Failed to download module/, run.output);
  assert.match(run.output, /Could not download module "unsignable"/, run.output);
  assert.match(run.output, /\/unsignable\/aws\/1\.2\.5\/archive\.zip\?checksum=sha256:[0-9a-f]{64}"\}:\s+bad response code: 503\./, run.output);
  const gets = archiveGets(env, 'unsignable');
  assert.ok(gets.length > 0 && gets.every((l) => l.status === 503), JSON.stringify(gets));
  const why = (env.logs as AccessLine[]).find((l) => l.msg === 'pre-signing failed and fallbackToProxy is false');
  assert.is(why?.reason, 'the storage backend cannot pre-sign URLs');
  // What the answer itself says, for clients that show it.
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  const answer = await fetch(`${env.server.listening.url}/opendepot/modules/v1/${env.namespace}/unsignable/aws/1.2.5/archive.zip`);
  assert.is(answer.status, 503);
  const body = await answer.text();
  assert.match(body, `cannot make a download URL for ${env.namespace}/unsignable/aws 1.2.5`);
  assert.match(body, 'presign.fallbackToProxy is false');
  // The backend's reason is for the log only: a client learns nothing of the storage behind.
  assert.not.match(body, 'the storage backend cannot pre-sign');
});

test('no log line of the operator or the server holds the secret key or a presigned signature', () => {
  const text = JSON.stringify(env.logs);
  assert.not.ok(text.includes(minio.secretAccessKey), 'the secret key was logged');
  assert.not.match(text, /X-Amz-Signature=[0-9a-f]{16,}/, 'a presigned signature was logged');
});

test.run();
