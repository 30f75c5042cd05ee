/**
 * Google Cloud Storage end to end, all real: fake-gcs-server, the operator and the server
 * loading `@opendepot/plugin-gcs` from configuration with a service account key from a
 * Kubernetes Secret, and the real `tofu init`. With presign on, the server answers 307 to a V4
 * signed URL and tofu downloads from fake-gcs-server; with presign off the server proxies; with
 * no key to sign with and `fallbackToProxy: false`, the download fails with a clear error.
 *
 * fake-gcs-server checks neither signatures nor expiry, so the signed URL's signature is checked
 * here against the service account's public key.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcsSchema } from '@opendepot/core';
import gcsPlugin from '@opendepot/plugin-gcs';
import { createGitRepo, gcsSignedUrlParts, hasValidGcsV4Signature, runRegistryClient, startFakeGcs, type ClientRun, type FakeGcs } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { archiveGets, assertProxiedAndVerified, moduleFiles, ready, type AccessLine, type Obj } from './support/resources.ts';

// The Google client must find no ambient credentials and never look for a metadata server: the
// "unsignable" Module relies on that, and nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = 'none';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
process.env.CLOUDSDK_CONFIG = await mkdtemp(join(tmpdir(), 'opendepot-no-gcloud-'));

const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];
const BUCKET = 'opendepot-e2e';
const PREFIX = 'registry/';
const TTL_SECONDS = 300;

/** A service account key as Google issues it, with a fresh RSA key. */
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const serviceAccount = {
  type: 'service_account',
  project_id: 'opendepot-e2e',
  private_key_id: randomBytes(20).toString('hex'),
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  client_email: 'opendepot-server@opendepot-e2e.iam.gserviceaccount.com',
  client_id: '1234567890',
  token_uri: 'https://oauth2.googleapis.com/token',
};

let gcs: FakeGcs;
let env: RegistryEnv;

/** A platform profile with fake-gcs-server as the endpoint; credentials from `secret`, if any. */
const profile = (secret: string | undefined) => ({
  gcs: { bucket: BUCKET, prefix: PREFIX, endpoint: gcs.url, ...(secret !== undefined && { credentialsSecretRef: { name: secret } }) },
});

/** A Module's `storageConfig`: the profile with (`signed`) or without a service account key, and the announcement's bucket. */
const storageConfig = (secret: string | undefined, presign: Record<string, unknown>) => ({
  profile: secret === undefined ? 'fake-gcs-anonymous' : 'fake-gcs',
  gcs: { bucket: BUCKET },
  presign,
});

const moduleManifest = (name: string, repoUrl: string, storage: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl, fileFormat: 'zip', immutable: true }, storageConfig: storage, versions: VERSIONS.map((version) => ({ version })) },
});

const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};
const storedKeyOf = async (module: string, version: string): Promise<string> => {
  const v = (await versionsOf(module)).find((x) => x.spec.version === version);
  return v!.status!.storageKey!;
};

const tofuInit = (module: string): Promise<ClientRun> =>
  runRegistryClient('tofu', {
    parentDir: env.dir,
    cliConfig: env.cliConfig,
    caFile: env.caFile,
    mainTf: `module "${module}" {\n  source  = "${HOST}/${env.namespace}/${module}/aws"\n  version = "~> 1.2.0"\n}\n`,
  });

/** The server's access-log lines of GETs of `module`'s archives. */

/** Asserts tofu installed 1.2.5 of `module` for `~> 1.2.0`. */
async function assertInstalled(run: ClientRun, module: string): Promise<void> {
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === module);
  assert.is(entry?.Version, '1.2.5', run.output);
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
}

/** GET of a server path without following redirects: status and Location. */
function getWithoutRedirect(path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${env.server.listening.url}${path}`, { ca: caPem }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
}
let caPem = '';

test.before(async () => {
  gcs = await startFakeGcs({ buckets: [BUCKET], logRequests: true });
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-gcs' }],
      storage: { profiles: { 'fake-gcs': profile('gcs-service-account'), 'fake-gcs-anonymous': profile(undefined) } },
    },
  });
  caPem = await readFile(env.caFile, 'utf8');
  await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gcs-service-account' }, type: 'Opaque', stringData: { 'credentials.json': JSON.stringify(serviceAccount) } });
  const repo = await createGitRepo(join(env.dir, 'gcs-repo'), { tags: Object.fromEntries(VERSIONS.map((v) => [`v${v}`, moduleFiles(v, 'Google Cloud Storage')])) });
  await env.apply(
    moduleManifest('presigned', repo.url, storageConfig('gcs-service-account', { enabled: true, ttl: `${TTL_SECONDS}s` })),
    moduleManifest('proxied', repo.url, storageConfig('gcs-service-account', { enabled: false })),
    // No key: API calls to the emulator need none, but there is nothing to sign URLs with.
    moduleManifest('unsignable', repo.url, storageConfig(undefined, { enabled: true, fallbackToProxy: false })),
  );
});

test.after(async () => {
  await env?.stop();
  await gcs?.stop();
});

test('the CRD and the plugin agree on the gcs config: the same fields (endpoint included) and patterns', () => {
  type Props = Record<string, { pattern?: string; maxLength?: number }>;
  const crd = gcsSchema.json.properties as Props;
  const plugin = (gcsPlugin.configSchema as { properties: Props }).properties;
  assert.equal(Object.keys(plugin).sort(), Object.keys(crd).sort());
  assert.ok('endpoint' in crd);
  for (const field of ['bucket', 'prefix', 'endpoint'] as const) {
    assert.is(plugin[field]!.pattern, crd[field]!.pattern, `${field} pattern`);
    assert.is(plugin[field]!.maxLength, crd[field]!.maxLength, `${field} maxLength`);
  }
});

test('the Modules become Ready with 4/4 synced; each archive is an object under the prefix with its checksum as metadata', async () => {
  for (const name of ['presigned', 'proxied', 'unsignable']) {
    const module = await eventually(
      `Module ${name} Ready`,
      async () => {
        const m = await env.get<Obj>('module', name);
        return ready(m) ? m : undefined;
      },
      120_000,
    );
    assert.is(module.status?.progress, '4/4');
    const versions = await versionsOf(name);
    assert.is(versions.length, 4);
    for (const v of versions) {
      const objectName = `${PREFIX}${v.status!.storageKey!}`;
      const r = await fetch(`${gcs.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(objectName)}`);
      assert.is(r.status, 200, `${v.metadata.name}: ${objectName} is not in the bucket`);
      const meta = (await r.json()) as { size: string; metadata?: Record<string, string> };
      assert.is(meta.metadata?.sha256, v.status?.checksum, `${v.metadata.name}: sha256 metadata`);
      assert.is(Number(meta.size), v.status?.size, `${v.metadata.name}: size`);
    }
  }
  const leftovers = (await gcs.listObjects(BUCKET)).filter((n) => !n.startsWith(PREFIX) || n.includes('.opendepot-uploads/'));
  assert.equal(leftovers, [], 'temporary upload objects or objects outside the prefix');
});

test('presign on: tofu init gets 1.2.5 for "~> 1.2.0" through a 307 to a V4 signed URL, downloading from fake-gcs-server', async () => {
  const run = await tofuInit('presigned');
  await assertInstalled(run, 'presigned');
  const gets = archiveGets(env, 'presigned');
  assert.ok(gets.length > 0, 'the server saw the archive download');
  for (const line of gets) {
    assert.is(line.status, 307, JSON.stringify(line));
    assert.is(line.outcome, 'presigned');
  }
  // fake-gcs-server's access log: tofu fetched the object itself, with the signed query.
  const objectPath = `/${BUCKET}/${PREFIX}${await storedKeyOf('presigned', '1.2.5')}`;
  const fetched = (await readFile(gcs.logFile, 'utf8')).split('\n').filter((l) => l.includes(`"GET ${objectPath}?`) && / 200 /.test(l));
  assert.ok(fetched.length > 0, `no GET of ${objectPath} in fake-gcs-server's log`);
  assert.ok(
    fetched.every((l) => l.includes('X-Goog-Algorithm=GOOG4-RSA-SHA256') && l.includes('X-Goog-Signature=')),
    fetched.join('\n'),
  );
});

test("the redirect is a V4 URL signed by the Secret's key, for that object only, expiring after the ttl", async () => {
  const path = archiveGets(env, 'presigned')[0]!.path!;
  const before = Date.now();
  const { status, location } = await getWithoutRedirect(path);
  assert.is(status, 307);
  const url = new URL(location!);
  assert.is(url.origin, gcs.url, 'the signed URL points at the configured endpoint');
  assert.is(url.pathname, `/${BUCKET}/${PREFIX}${await storedKeyOf('presigned', '1.2.5')}`);
  const parts = gcsSignedUrlParts(url);
  assert.is(parts.credentialEmail, serviceAccount.client_email);
  assert.is(parts.expiresSeconds, TTL_SECONDS);
  assert.ok(Math.abs(parts.signedAt.getTime() - before) < 60_000, `signed at ${parts.signedAt.toISOString()}`);
  const publicKey = createPublicKey(serviceAccount.private_key);
  assert.ok(hasValidGcsV4Signature(url.href, publicKey), 'the signature must verify with the service account key');
  const other = new URL(url.href);
  other.pathname = `/${BUCKET}/${PREFIX}${await storedKeyOf('presigned', '1.1.0')}`;
  assert.not.ok(hasValidGcsV4Signature(other.href, publicKey), 'the signature must not cover another version');
});

test('presign off: tofu init gets 1.2.5 proxied by the server, verified on the way', async () => {
  const run = await tofuInit('proxied');
  await assertInstalled(run, 'proxied');
  assertProxiedAndVerified(env, 'proxied');
});

test('no key to sign with: with fallbackToProxy false the download fails with a clear error, nothing proxied', async () => {
  const run = await tofuInit('unsignable');
  assert.is.not(run.code, 0, run.output);
  assert.match(run.output, /503|Service Unavailable/, run.output);
  const gets = archiveGets(env, 'unsignable');
  assert.ok(gets.length > 0 && gets.every((l) => l.status === 503), JSON.stringify(gets));
  const why = (env.logs as AccessLine[]).find((l) => l.msg === 'pre-signing failed and fallbackToProxy is false');
  assert.match(why?.reason ?? '', /cannot sign a URL for .*credentials/, JSON.stringify(why));
});

test('no log line of the operator or the server holds the private key or a URL signature', () => {
  const text = JSON.stringify(env.logs);
  const keyBody = serviceAccount.private_key.split('\n')[1]!;
  assert.not.ok(text.includes(keyBody), 'the private key was logged');
  assert.not.match(text, /X-Goog-Signature=[0-9a-f]{20,}/, 'a URL signature was logged');
});

test.run();
