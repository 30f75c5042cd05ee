/**
 * What is particular to S3, against a real MinIO: presigned URLs (expiry checked by MinIO,
 * signed for one object), multipart checksum refusals and aborts, the part-by-part copy, the
 * prefix, credentials from a Secret, and how failures map to the contract's errors.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { CreateMultipartUploadCommand, AbortMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION, UPLOADS_FOLDER, type StorageBackend } from '@opendepot/sdk';
import { chunked, collectBytes, digestOf, isAbortError, MiB, pseudoRandomBytes, pseudoRandomChunks, sha256Hex, configTable, readmeConfigTable } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { configSchema, S3Storage, type S3StorageOptions } from '../src/index.ts';
import { credentialSecrets, minioConfig, pluginContext, recordingLogger, SECRET_NAME, startMinio } from './support.ts';

const BUCKET = 'plugin-tests';
const PREFIX = 'od';
const minio = await startMinio({ buckets: [BUCKET] });
const secrets = credentialSecrets(minio);
const config = minioConfig(minio, BUCKET, PREFIX);
const open: StorageBackend[] = [];

/** A backend made through the plugin, as the host makes it. */
async function backend(): Promise<StorageBackend> {
  const b = await plugin.create(config, pluginContext({ secrets }));
  open.push(b);
  return b;
}

/** An `S3Storage` with tuning options, credentials from the Secret. */
function tuned(options: S3StorageOptions): S3Storage {
  const s = new S3Storage(config, { credentials: async () => ({ accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey }), ...options });
  open.push(s);
  return s;
}

async function rejection(promise: unknown, what: string): Promise<Error & { code?: string; field?: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new assert.Assertion({ message: `${what}: expected a rejection`, generated: false, operator: 'rejects', expects: 'rejection', actual: 'success' });
}

async function nothingLeft(): Promise<void> {
  assert.equal(await minio.listObjects(BUCKET, `${PREFIX}/${UPLOADS_FOLDER}/`), [], `no upload left under ${UPLOADS_FOLDER}/`);
  assert.equal(await minio.listMultipartUploads(BUCKET), [], 'no multipart upload left open');
}

test.after.each(async () => {
  await Promise.all(open.splice(0).map((b) => b.close?.()));
});
test.after(() => minio.stop());

test('default export: a branded storage plugin named s3 whose schema is the CRD s3 block', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.name, 's3', 'the storageConfig key that selects it');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
  assert.is(configSchema.additionalProperties, false);
  assert.equal(configSchema.required, ['bucket', 'region']);
  assert.equal(Object.keys(configSchema.properties as object), ['bucket', 'region', 'prefix', 'endpoint', 'forcePathStyle', 'credentialsSecretRef', 'allowedEndpointHosts']);
});

test('the README documents every field: its table is the one generated from the schema', async () => {
  const documented = readmeConfigTable(await readFile(new URL('../README.md', import.meta.url), 'utf8'));
  assert.ok(documented !== undefined, 'README has the config-table markers');
  assert.fixture(documented, configTable(configSchema), 'README table is stale: regenerate it with scripts/config-table.ts');
});

test('objects are stored under the prefix; keys that could leave it or hit the uploads area are refused', async () => {
  const b = await backend();
  await b.put('modules/acme/vpc/aws/1.0.0.zip', chunked(Buffer.from('zip')));
  assert.ok((await minio.listObjects(BUCKET, 'od/modules/')).includes('od/modules/acme/vpc/aws/1.0.0.zip'));
  for (const bad of [`${UPLOADS_FOLDER}/x`, '.OPENDEPOT-UPLOADS/x', 'a\u0000b', 'a\nb', 'a\\b', 'a//b', `${'x'.repeat(1100)}`]) {
    const err = await rejection(b.put(bad, chunked(Buffer.from('x'))), `put(${JSON.stringify(bad)})`);
    assert.ok(isOpenDepotError(err, 'input'), `${JSON.stringify(bad)}: ${err.message}`);
  }
  await b.delete('modules/acme/vpc/aws/1.0.0.zip');
});

test('presigned URL: MinIO serves it with the filename, refuses it for another key, and refuses it once expired', async () => {
  const b = await backend();
  const bytes = Buffer.from('presigned content\n');
  await b.put('presign/a.zip', chunked(bytes));
  await b.put('presign/b.zip', chunked(Buffer.from('another object')));
  const signed = await b.presign!('presign/a.zip', { ttlSeconds: 3, filename: 'vpc "1.0".zip' });
  assert.match(signed.url, /X-Amz-Expires=3(&|$)/);
  assert.not.match(signed.url, new RegExp(minio.secretAccessKey), 'the URL never carries the secret');

  const ok = await fetch(signed.url);
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('content-disposition'), 'attachment; filename="vpc _1.0_.zip"');
  assert.ok(Buffer.from(await ok.arrayBuffer()).equals(bytes));

  // The signature covers the key: the same query string does not open another object.
  const other = await fetch(signed.url.replace('/presign/a.zip?', '/presign/b.zip?'));
  assert.is(other.status, 403);
  assert.match(await other.text(), /SignatureDoesNotMatch/);

  const wait = signed.expiresAt.getTime() + 1500 - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  const expired = await fetch(signed.url);
  assert.is(expired.status, 403, 'MinIO refuses an expired presigned URL');
  assert.match(await expired.text(), /Request has expired/);
});

test('presign refuses a ttl S3 cannot sign (below 1 s or above 7 days)', async () => {
  const b = await backend();
  for (const ttlSeconds of [0, 0.5, 7 * 24 * 3600 + 1, Number.NaN]) {
    const err = await rejection(b.presign!('presign/a.zip', { ttlSeconds }), `ttl ${ttlSeconds}`);
    assert.ok(isOpenDepotError(err, 'input'), err.message);
  }
});

test('multipart put with a wrong sha256 is aborted: nothing visible, no parts left; the right one is stored', async () => {
  const s = tuned({ partSizeBytes: 5 * MiB });
  const size = 17 * MiB + 3; // four parts
  const digest = await digestOf(pseudoRandomChunks(size, { seed: 21 }));
  const err = await rejection(s.put('mp/checked.bin', pseudoRandomChunks(size, { seed: 21 }), { sha256: sha256Hex(Buffer.from('other')) }), 'wrong sha256');
  assert.ok(isOpenDepotError(err, 'integrity'), err.message);
  assert.match(err.message, /hashes to sha256 [0-9a-f]{64}, not the expected/);
  assert.ok(isOpenDepotError(await rejection(s.stat('mp/checked.bin'), 'stat'), 'not_found'));
  await nothingLeft();

  const info = await s.put('mp/checked.bin', pseudoRandomChunks(size, { seed: 21 }), { sha256: digest.sha256.toUpperCase() });
  assert.equal({ size: info.size, sha256: info.sha256 }, digest);
  assert.equal((await s.stat('mp/checked.bin')).sha256, digest.sha256);
  assert.equal(await digestOf((await s.get('mp/checked.bin')).body), digest);
  await nothingLeft();
});

test('aborting a multipart put mid-stream rejects at once, aborts the multipart upload and leaves nothing', async () => {
  const s = tuned({ partSizeBytes: 5 * MiB });
  const controller = new AbortController();
  let sent = 0;
  let abortedAt = 0;
  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const chunk of pseudoRandomChunks(64 * MiB, { seed: 4 })) {
      yield chunk;
      sent += chunk.byteLength;
      if (sent === 20 * MiB) {
        abortedAt = performance.now();
        controller.abort();
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  const err = await rejection(s.put('mp/aborted.bin', body(), { signal: controller.signal }), 'aborted put');
  assert.ok(isAbortError(err, controller.signal), `expected an AbortError, got ${err.name}: ${err.message}`);
  assert.ok(performance.now() - abortedAt < 2000, 'rejected promptly');
  assert.ok(sent < 64 * MiB, 'the body was not read to the end');
  assert.ok(isOpenDepotError(await rejection(s.stat('mp/aborted.bin'), 'stat'), 'not_found'));
  await nothingLeft();
});

test('the open-upload check can fail: an open multipart upload is listed', async () => {
  const s = tuned({});
  const { UploadId } = await s.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'od/open.bin' }));
  assert.equal(await minio.listMultipartUploads(BUCKET), ['od/open.bin']);
  await s.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'od/open.bin', UploadId }));
  await nothingLeft();
});

test('a big object of unknown checksum above the single-copy limit is copied into place part by part', async () => {
  const s = tuned({ partSizeBytes: 5 * MiB, maxSingleCopyBytes: 8 * MiB, copyPartBytes: 5 * MiB });
  const size = 23 * MiB + 11;
  const info = await s.put('mp/copied.bin', pseudoRandomChunks(size, { seed: 8 }), { contentType: 'application/zip' });
  const expected = await digestOf(pseudoRandomChunks(size, { seed: 8 }));
  assert.equal({ size: info.size, sha256: info.sha256 }, expected);
  assert.equal((await s.stat('mp/copied.bin')).sha256, expected.sha256);
  const got = await s.get('mp/copied.bin', { range: { start: 5 * MiB - 2, end: 5 * MiB + 1 } });
  assert.ok((await collectBytes(got.body)).equals((await pseudoRandomBytes(6 * MiB, { seed: 8 })).subarray(5 * MiB - 2, 5 * MiB + 2)), 'bytes across a copy-part boundary');
  assert.equal(await digestOf((await s.get('mp/copied.bin')).body), expected);
  await nothingLeft();
});

test('an object written by something else reads with an unknown checksum (empty), not a wrong one', async () => {
  const s = tuned({});
  await s.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'od/foreign.txt', Body: 'foreign' }));
  const info = await s.stat('foreign.txt');
  assert.is(info.sha256, '');
  assert.is(info.size, 7);
});

test('credentials come from the Secret through readSecret; nothing secret is logged', async () => {
  const lines: string[] = [];
  const reads: string[] = [];
  const context = pluginContext({ secrets, logger: recordingLogger(lines) });
  const readSecret = context.readSecret!;
  context.readSecret = async (name, key) => {
    reads.push(`${name}/${key}`);
    return readSecret(name, key);
  };
  const b = await plugin.create(config, context);
  open.push(b);
  assert.ok(reads.includes(`${SECRET_NAME}/AWS_ACCESS_KEY_ID`) && reads.includes(`${SECRET_NAME}/AWS_SECRET_ACCESS_KEY`), reads.join(', '));
  assert.ok(
    lines.some((l) => l.includes('s3 storage ready') && l.includes(`Secret ${SECRET_NAME}`)),
    lines.join('\n'),
  );
  // Read once and cached by the SDK until the refresh time, not once per request.
  const before = reads.length;
  await b.put('creds/a', chunked(Buffer.from('a')));
  for (let i = 0; i < 5; i++) await b.stat('creds/a');
  assert.is(reads.length, before, `the Secret was read again: ${reads.slice(before).join(', ')}`);
  assert.not.ok(
    lines.some((l) => l.includes(minio.secretAccessKey)),
    'the secret key is never logged',
  );
});

test('wrong credentials stop the plugin at start-up, without echoing the secret; a get says the signature is wrong', async () => {
  const wrong = { [SECRET_NAME]: { AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: 'definitely-not-the-secret' } };
  const err = await rejection(plugin.create(config, pluginContext({ secrets: wrong })), 'wrong secret');
  // HeadBucket's 403 carries no reason, so it cannot tell bad credentials from denied access.
  assert.ok(isOpenDepotError(err, 'forbidden'), `${err.name}: ${err.message}`);
  assert.match(err.message, 'S3 access to bucket plugin-tests failed: HTTP 403');
  assert.match(err.hint ?? '', 'Check the credentials');
  assert.not.match(`${err.message} ${err.hint}`, 'definitely-not-the-secret');
  // A request with a body says why.
  const s = new S3Storage(config, { credentials: async () => ({ accessKeyId: minio.accessKeyId, secretAccessKey: 'definitely-not-the-secret' }) });
  open.push(s);
  const get = await rejection(s.get('any'), 'get with a wrong secret');
  assert.ok(isOpenDepotError(get, 'unauthenticated'), `${get.name}: ${get.message}`);
  assert.match(get.message, 'SignatureDoesNotMatch');
});

test('a Secret without the keys, or a host that cannot read Secrets, is refused at start-up', async () => {
  const missing = await rejection(plugin.create(config, pluginContext({ secrets: { [SECRET_NAME]: { AWS_ACCESS_KEY_ID: 'x' } } })), 'key missing');
  assert.ok(isOpenDepotError(missing, 'unauthenticated'), `${missing.name}: ${missing.message}`);
  assert.match(missing.message, `Secret ${SECRET_NAME}`);
  assert.match(missing.message, 'AWS_SECRET_ACCESS_KEY');

  const noAccess = await rejection(plugin.create(config, pluginContext({ secrets: undefined })), 'no readSecret');
  assert.ok(isOpenDepotError(noAccess, 'input'), noAccess.message);
  assert.is(noAccess.field, 'credentialsSecretRef');
  assert.match(noAccess.message, 'storageConfig.s3.credentialsSecretRef is set, but this host cannot read Secrets');
});

test('a missing bucket or an unreachable endpoint is unavailable (transient) at start-up', async () => {
  const noBucket = await rejection(plugin.create({ ...config, bucket: 'no-such-bucket' }, pluginContext({ secrets })), 'missing bucket');
  assert.ok(isOpenDepotError(noBucket, 'unavailable'), `${noBucket.name}: ${noBucket.message}`);
  assert.match(noBucket.message, 'S3 bucket no-such-bucket does not exist');

  // A loopback port nobody listens on.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const down = await rejection(plugin.create({ ...config, endpoint: `http://127.0.0.1:${port}` }, pluginContext({ secrets })), 'no endpoint');
  assert.ok(isOpenDepotError(down, 'unavailable'), `${down.name}: ${down.message}`);
  assert.ok((down as { transient?: boolean }).transient);
});

/** A local HTTP server that counts what reaches it: the foreign host of the attacks. */
async function listener(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.statusCode = 200;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.2:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('an endpoint neither AWS nor allowed is refused before any Secret is read or request sent', async () => {
  const foreign = await listener();
  try {
    const read: string[] = [];
    const context = pluginContext({ secrets });
    const spying = {
      ...context,
      readSecret: async (name: string, key: string) => {
        read.push(`${name}/${key}`);
        return context.readSecret!(name, key);
      },
    };
    for (const allowedEndpointHosts of [undefined, [], [new URL(minio.endpoint).hostname], ['127.0.0.2:1'], ['*.example.com']]) {
      const { allowedEndpointHosts: _, ...rest } = config;
      const attack = { ...rest, endpoint: foreign.url, ...(allowedEndpointHosts !== undefined && { allowedEndpointHosts }) };
      const err = await rejection(plugin.create(attack, spying), `endpoint ${foreign.url} with allowedEndpointHosts ${JSON.stringify(allowedEndpointHosts)}`);
      assert.ok(isOpenDepotError(err, 'input'), `${err.name}: ${err.message}`);
      assert.is(err.field, 'endpoint');
      assert.match(err.message, 'allowedEndpointHosts');
      assert.match(err.hint ?? '', 'storage.profiles');
    }
    // AWS's own hosts need no allowlist; plain http to them does.
    assert.throws(() => new S3Storage({ bucket: 'b1b', region: 'us-west-2', endpoint: 'http://s3.us-west-2.amazonaws.com' }), /allowedEndpointHosts/);
    new S3Storage({ bucket: 'b1b', region: 'us-west-2', endpoint: 'https://s3.us-west-2.amazonaws.com' }).client.destroy();
    assert.equal(read, [], 'no Secret was read');
    assert.equal(foreign.requests, [], 'no request reached the foreign host');
  } finally {
    await foreign.close();
  }
});

test('a signed request to any host but the configured endpoint is stopped just before it leaves', async () => {
  const foreign = await listener();
  try {
    // The config names MinIO (allowed); the client is then pointed elsewhere underneath it.
    const s = tuned({ clientConfig: { endpoint: foreign.url } });
    const err = await rejection(s.stat('anything'), 'stat through a redirected client');
    assert.match(err.message, /refusing to send an S3 request to 127\.0\.0\.2/);
    assert.equal(foreign.requests, [], 'no request reached the foreign host');
  } finally {
    await foreign.close();
  }
});

test('get and stat of missing objects are not_found; a range past the end is an input error', async () => {
  const b = await backend();
  assert.ok(isOpenDepotError(await rejection(b.get('missing/x'), 'get'), 'not_found'));
  assert.ok(isOpenDepotError(await rejection(b.stat('missing/x'), 'stat'), 'not_found'));
  await b.put('range/small', chunked(Buffer.from('0123456789')));
  assert.ok(isOpenDepotError(await rejection(b.get('range/small', { range: { start: 100 } }), 'range'), 'input'));
});

test.run();
