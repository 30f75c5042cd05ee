/**
 * The package as the host loads it, and what the conformance suite cannot see: credentials from
 * a Secret, error codes at start-up, where objects and signed URLs point, and that signed URLs
 * are really signed by the key for exactly one object.
 */
import { createPublicKey } from 'node:crypto';
import { freePort, gcsSignedUrlParts as partsOf, hasValidGcsV4Signature as hasValidSignature, startFakeGcs } from '@opendepot/testbed';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION, type StorageBackend } from '@opendepot/sdk';
import { BAD_KEYS, chunked, collectBytes } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { configSchema, GcsStorage, sendsTokensTo, UPLOADS_FOLDER, type GcsStorageConfig } from '../src/index.ts';
import { fakeServiceAccountKey, pluginContext, recordingLogger } from './support.ts';

const BUCKET = 'opendepot-plugin-test';
const gcs = await startFakeGcs({ buckets: [BUCKET] });
const key = fakeServiceAccountKey();
const publicKey = createPublicKey(key.private_key!);
const secrets = { 'gcs-key': { 'credentials.json': JSON.stringify(key) } };
const config = (extra: Partial<GcsStorageConfig> = {}): GcsStorageConfig => ({
  bucket: BUCKET,
  endpoint: gcs.url,
  credentialsSecretRef: { name: 'gcs-key' },
  ...extra,
});
const opened: StorageBackend[] = [];
async function create(c: GcsStorageConfig, context = pluginContext({ secrets })): Promise<GcsStorage> {
  const storage = (await plugin.create(c, context)) as GcsStorage;
  opened.push(storage);
  return storage;
}
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; field?: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; field?: string; hint?: string };
  }
  assert.unreachable('expected a rejection, but it succeeded');
  throw new Error('unreachable');
}
const text = (s: string) => chunked(Buffer.from(s));

test.after.each(async () => {
  for (const s of opened.splice(0)) await s.close?.();
  await gcs.emptyBucket(BUCKET);
});
test.after(() => gcs.stop());

test('default export: a branded storage plugin named gcs, for this plugin API', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.name, 'gcs', 'the storageConfig key that selects it');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
});

test('the config schema is draft-07, requires the bucket and documents every property', () => {
  assert.is(configSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(configSchema.required, ['bucket']);
  assert.is(configSchema.additionalProperties, false);
  const properties = configSchema.properties as Record<string, { description?: string; pattern?: string }>;
  assert.equal(Object.keys(properties).sort(), ['bucket', 'credentialsSecretRef', 'endpoint', 'prefix']);
  for (const p of Object.values(properties)) assert.ok((p.description ?? '').length > 20);
  const bucket = new RegExp(properties.bucket!.pattern!);
  assert.ok(bucket.test('opendepot-modules') && bucket.test('my.bucket_1'));
  assert.not.ok(bucket.test('Upper') || bucket.test('a') || bucket.test('-leading'));
  const endpoint = new RegExp(properties.endpoint!.pattern!);
  assert.ok(endpoint.test('http://127.0.0.1:4443') && endpoint.test('https://storage-psc.p.googleapis.com'));
  assert.not.ok(endpoint.test('127.0.0.1:4443') || endpoint.test('ftp://x'));
});

test('create reads the key from the Secret, and objects land under the prefix (a / is added)', async () => {
  const storage = await create(config({ prefix: 'team-a' }));
  assert.is(storage.capabilities.presign, true);
  assert.is(storage.prefix, 'team-a/');
  const info = await storage.put('modules/acme/vpc/aws/1.0.0.zip', text('zip bytes'), { contentType: 'application/zip' });
  assert.is(info.size, 9);
  assert.equal(await gcs.listObjects(BUCKET), ['team-a/modules/acme/vpc/aws/1.0.0.zip']);
  const { body } = await storage.get('modules/acme/vpc/aws/1.0.0.zip');
  assert.is((await collectBytes(body)).toString(), 'zip bytes');
});

test('keys are refused before anything is sent: the contract bad keys, control characters, the uploads folder', async () => {
  const storage = await create(config());
  for (const bad of [...BAD_KEYS, 'a\nb', `${UPLOADS_FOLDER}/x`, 'a\\b', 'x'.repeat(1100)]) {
    for (const call of [() => storage.put(bad, text('x')), () => storage.stat(bad), () => storage.get(bad), () => storage.delete(bad), () => storage.presign(bad, { ttlSeconds: 60 })]) {
      const err = await failure(call());
      assert.ok(isOpenDepotError(err, 'input'), `${JSON.stringify(bad.slice(0, 20))}: ${err}`);
    }
  }
  assert.equal(await gcs.listObjects(BUCKET), []);
});

test('a presigned URL points at the endpoint, is signed by the key, for this object only, and expires after the ttl', async () => {
  const storage = await create(config({ prefix: 'registry/' }));
  const objectKey = 'modules/acme/vpc/aws/1.2.5.zip';
  await storage.put(objectKey, text('the archive'));
  const before = Date.now();
  const signed = await storage.presign(objectKey, { ttlSeconds: 900, filename: 'vpc-1.2.5.zip' });
  const url = new URL(signed.url);
  assert.is(url.origin, gcs.url, 'with an endpoint, the URL must point at it');
  assert.is(url.pathname, `/${BUCKET}/registry/${objectKey}`);
  const parts = partsOf(url);
  assert.is(parts.credentialEmail, key.client_email);
  assert.is(parts.expiresSeconds, 900);
  assert.is(parts.signedAt.getTime() + 900_000, signed.expiresAt.getTime(), 'expiresAt must be when the signature lapses');
  assert.ok(signed.expiresAt.getTime() >= before + 899_000 && signed.expiresAt.getTime() <= Date.now() + 900_000);
  assert.is(url.searchParams.get('response-content-disposition'), 'attachment; filename="vpc-1.2.5.zip"');

  assert.ok(hasValidSignature(signed.url, publicKey), 'the signature must verify with the service account key');
  const otherObject = new URL(signed.url);
  otherObject.pathname = `/${BUCKET}/registry/modules/acme/vpc/aws/9.9.9.zip`;
  assert.not.ok(hasValidSignature(otherObject.href, publicKey), 'the signature must not cover another object');
  const longer = new URL(signed.url);
  longer.searchParams.set('X-Goog-Expires', '604800');
  assert.not.ok(hasValidSignature(longer.href, publicKey), 'the signature must cover the expiry');
  assert.not.ok(hasValidSignature(signed.url, createPublicKey(fakeServiceAccountKey().private_key!)), 'another key must not verify it');

  const response = await fetch(signed.url);
  assert.is(response.status, 200);
  assert.is(await response.text(), 'the archive');
});

test('without an endpoint, presigned URLs point at storage.googleapis.com (signed locally, nothing is sent)', async () => {
  // No probe (create would call Google): the class is used directly; signing needs no network.
  const storage = new GcsStorage({ bucket: 'prod-bucket', prefix: 'od', credentials: { client_email: key.client_email!, private_key: key.private_key! } });
  const signed = await storage.presign('modules/a b+c.zip', { ttlSeconds: 60 });
  const url = new URL(signed.url);
  assert.is(url.origin, 'https://storage.googleapis.com');
  assert.is(decodeURIComponent(url.pathname), '/prod-bucket/od/modules/a b+c.zip');
  assert.ok(hasValidSignature(signed.url, publicKey));
  assert.is(partsOf(url).expiresSeconds, 60);
});

test('without a key and without ambient credentials, presign fails as unauthenticated (and the rest works)', async () => {
  const storage = await create({ bucket: BUCKET, endpoint: gcs.url });
  await storage.put('x.zip', text('x'));
  const err = await failure(storage.presign('x.zip', { ttlSeconds: 60 }));
  assert.ok(isOpenDepotError(err, 'unauthenticated'), String(err));
  assert.match(err.message, 'cannot sign a URL for "x.zip"');
  assert.match(err.hint ?? '', 'credentialsSecretRef');
});

test('presign refuses a ttl GCS would refuse', async () => {
  const storage = await create(config());
  for (const ttlSeconds of [0, -5, Number.NaN, 7 * 24 * 3600 + 1]) {
    assert.ok(isOpenDepotError(await failure(storage.presign('x.zip', { ttlSeconds })), 'input'), String(ttlSeconds));
  }
  assert.ok((await storage.presign('x.zip', { ttlSeconds: 7 * 24 * 3600 })).url.includes('X-Goog-Expires=604800'));
});

test('credentials: a missing Secret, a bad key file or another credential type stop create with an input error that shows no key material', async () => {
  const cases: Array<[string, Record<string, Record<string, string>>, RegExp]> = [
    ['no such Secret', {}, /cannot read Secret gcs-key, key credentials.json/],
    ['not JSON', { 'gcs-key': { 'credentials.json': `not json ${key.private_key}` } }, /is not JSON/],
    ['no private key', { 'gcs-key': { 'credentials.json': JSON.stringify({ ...key, private_key: undefined }) } }, /has no private_key/],
    [
      'external account',
      { 'gcs-key': { 'credentials.json': JSON.stringify({ type: 'external_account', credential_source: { url: 'http://evil.example/token' } }) } },
      /only service account keys are supported/,
    ],
  ];
  for (const [what, s, message] of cases) {
    const err = await failure(create(config(), pluginContext({ secrets: s })));
    assert.ok(isOpenDepotError(err, 'input'), `${what}: ${err}`);
    assert.match(err.message, message, what);
    assert.is(err.field, 'credentialsSecretRef.name', what);
    assert.not.match(`${err.message} ${err.hint}`, 'PRIVATE KEY', `${what}: the message must not echo the key`);
  }
  const noSecrets = { ...pluginContext(), readSecret: undefined };
  assert.ok(isOpenDepotError(await failure(create(config(), noSecrets)), 'input'), 'a host without Secret access');
});

test('create fails with not_found naming the bucket when it does not exist, and unavailable when the endpoint is down', async () => {
  const missing = await failure(create(config({ bucket: 'no-such-bucket' })));
  assert.ok(isOpenDepotError(missing, 'not_found'), String(missing));
  assert.is(missing.field, 'bucket');
  assert.match(missing.message, 'no-such-bucket');

  const down = `http://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const unreachable = await failure(create(config({ endpoint: down })));
  assert.ok(isOpenDepotError(unreachable, 'unavailable'), `an unreachable endpoint is transient: ${unreachable}`);
  assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
});

test('get and stat of a missing object are not_found; delete of one succeeds', async () => {
  const storage = await create(config());
  assert.ok(isOpenDepotError(await failure(storage.stat('nope.zip')), 'not_found'));
  assert.ok(isOpenDepotError(await failure(storage.get('nope.zip')), 'not_found'));
  await storage.delete('nope.zip');
});

test('OAuth tokens go only to Google endpoints: never to an emulator or any other host', () => {
  assert.ok(sendsTokensTo('https://storage.googleapis.com'));
  assert.ok(sendsTokensTo('https://storage-opendepot.p.googleapis.com'));
  assert.not.ok(sendsTokensTo('http://storage.googleapis.com'), 'not in clear text');
  assert.not.ok(sendsTokensTo('http://127.0.0.1:4443'));
  assert.not.ok(sendsTokensTo('https://fake-gcs.storage.svc:4443'));
  assert.not.ok(sendsTokensTo('https://googleapis.com.evil.example'));
});

test('a failed put leaves no temporary object and logs no warning', async () => {
  const warnings: string[] = [];
  const storage = await create(config(), pluginContext({ secrets, logger: recordingLogger(warnings) }));
  await storage.put('kept.zip', text('old'));
  const err = await failure(storage.put('kept.zip', text('new'), { sha256: '0'.repeat(64) }));
  assert.ok(isOpenDepotError(err, 'integrity'), String(err));
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('partial');
    throw new Error('upstream went away');
  }
  assert.match((await failure(storage.put('kept.zip', broken()))).message, 'upstream went away');
  await storage.close();
  assert.equal(await gcs.listObjects(BUCKET), ['kept.zip']);
  assert.is((await collectBytes((await storage.get('kept.zip')).body)).toString(), 'old');
  assert.equal(warnings, []);
});

test.run();
