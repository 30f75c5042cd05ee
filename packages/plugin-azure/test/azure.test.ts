/**
 * What the conformance suite does not cover, against Azurite over HTTPS: the plugin's
 * definition and its config schema against the CRD's, each way of passing credentials, the
 * scope of SAS URLs, user delegation SAS with a Microsoft Entra ID token, and how Azure's
 * failures map onto the contract's error codes. Every credential is explicit.
 */
import { azureBlobSchema } from '@opendepot/core';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION, type ObjectInfo, type StorageBackend } from '@opendepot/sdk';
import { collectBytes, expectCode } from '@opendepot/sdk/testkit';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createTestCertificates, freePort, trustCaInProcess } from '@opendepot/testbed';
import { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, generateAccountSASQueryParameters, SASProtocol, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { AzureBlobStorage, configSchema, parseConnectionString } from '../src/index.ts';
import { emptyContainer, pluginContext, recordingLogger, startAzureTestEnv } from './support.ts';

const env = await startAzureTestEnv({ oauth: true });
const { accountKey, accountName, accountUrl, connectionString } = env.azurite;

const body = (text: string) =>
  (async function* () {
    yield Buffer.from(text);
  })();

/** Puts, reads back, stats and deletes one small object. */
async function roundTrip(storage: StorageBackend, key: string): Promise<ObjectInfo> {
  const info = await storage.put(key, body(`content of ${key}`));
  const got = await storage.get(key);
  assert.is((await collectBytes(got.body)).toString(), `content of ${key}`);
  assert.equal(await storage.stat(key), info);
  await storage.delete(key);
  await expectCode(storage.stat(key), 'not_found', `stat(${key}) after delete`);
  return info;
}

/** An unsigned JWT of the shape Azurite's `--oauth basic` checks (issuer, audience, lifetime). */
function entraToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/11111111-2222-4333-8444-555555555555/',
    tid: '11111111-2222-4333-8444-555555555555',
    oid: '66666666-7777-4888-9999-000000000000',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
  };
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`;
}

test.after.each(() => emptyContainer(env.container));
test.after(() => env.stop());

test('default export: a branded storage plugin named azureBlob, for this plugin API', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.name, 'azureBlob', 'the storageConfig key that selects it');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
});

test("the config schema has exactly the CRD's azureBlob fields, required fields and constraints", () => {
  const crd = azureBlobSchema.json as { properties: Record<string, Record<string, unknown>>; required: string[] };
  const ours = configSchema as { properties: Record<string, Record<string, unknown>>; required: string[]; additionalProperties: unknown };
  // Plus allowedEndpointHosts, which only the platform sets (storage profiles), so it is not in the CRD.
  assert.equal(Object.keys(ours.properties).sort(), [...Object.keys(crd.properties), 'allowedEndpointHosts'].sort());
  // The CRD requires nothing: a resource's storage profile supplies what it leaves out.
  assert.equal(crd.required, undefined);
  assert.equal([...ours.required].sort(), ['accountName', 'accountUrl', 'resourceGroup', 'subscriptionID']);
  assert.is(ours.additionalProperties, false);
  const constraints = (p: Record<string, unknown>) => ({ type: p.type, pattern: p.pattern, minLength: p.minLength, maxLength: p.maxLength, required: p.required });
  for (const [name, crdProperty] of Object.entries(crd.properties)) {
    assert.equal(constraints(ours.properties[name]!), constraints(crdProperty), name);
    assert.ok(String(ours.properties[name]!.description).length > 20, `${name} is documented`);
  }
  const ref = ours.properties.credentialsSecretRef as { properties: Record<string, Record<string, unknown>> };
  const crdRef = crd.properties.credentialsSecretRef as { properties: Record<string, Record<string, unknown>> };
  assert.equal(constraints(ref.properties.name!), constraints(crdRef.properties.name!));
  assert.is(ours.properties.container!.default, 'opendepot');
});

test('a connection string from the Secret works; the account key in it is never logged', async () => {
  const lines: string[] = [];
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': { AZURE_STORAGE_CONNECTION_STRING: `${connectionString}\n` } }, recordingLogger(lines)));
  assert.ok(storage.capabilities.presign);
  await roundTrip(storage, 'conn/a.zip');
  assert.ok(
    lines.some((l) => l.includes('azure blob storage ready') && l.includes('AZURE_STORAGE_CONNECTION_STRING')),
    lines.join('\n'),
  );
  assert.not.ok(lines.join('\n').includes(accountKey));
});

test('a SAS-token connection string reads and writes, but declares it cannot presign and presign() refuses', async () => {
  const sas = generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      permissions: AccountSASPermissions.parse('rwdlc'),
      protocol: SASProtocol.Https,
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(accountName, accountKey),
  ).toString();
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${accountUrl};SharedAccessSignature=${sas}` } }));
  assert.is(storage.capabilities.presign, false);
  await roundTrip(storage, 'sas/a.zip');
  await storage.put('sas/b.zip', body('b'));
  await expectCode(storage.presign!('sas/b.zip', { ttlSeconds: 60 }), 'input', 'presign with a SAS token');
});

test('a service principal in the Secret makes an Entra ID credential (no request is made here)', async () => {
  const lines: string[] = [];
  const secret = { AZURE_CLIENT_ID: 'client-id', AZURE_TENANT_ID: 'tenant-id', AZURE_CLIENT_SECRET: 'the-client-secret' };
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': secret }, recordingLogger(lines)));
  assert.ok(storage.capabilities.presign, 'user delegation SAS');
  assert.ok(
    lines.some((l) => l.includes('service principal client-id')),
    lines.join('\n'),
  );
  assert.not.ok(lines.join('\n').includes('the-client-secret'));
});

test('unusable credentials stop create with an input error naming credentialsSecretRef', async () => {
  const cases: Array<[string, Parameters<typeof pluginContext>[0], RegExp]> = [
    ['no usable keys', { 'azure-storage': { AZURE_CLIENT_ID: 'only-the-id' } }, /AZURE_STORAGE_CONNECTION_STRING.*AZURE_STORAGE_ACCOUNT_KEY/],
    ['no Secret at all', {}, /no usable Azure credentials.*has no key/],
    ['another account', { 'azure-storage': { AZURE_STORAGE_CONNECTION_STRING: connectionString.replace(`AccountName=${accountName}`, 'AccountName=otheraccount') } }, /otheraccount/],
    ['neither key nor SAS', { 'azure-storage': { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${accountUrl}` } }, /neither AccountKey nor SharedAccessSignature/],
  ];
  for (const [what, secrets, message] of cases) {
    const err = await Promise.resolve(plugin.create(env.config(), pluginContext(secrets))).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOpenDepotError(err, 'input'), `${what}: ${String(err)}`);
    assert.is((err as { field?: string }).field, 'credentialsSecretRef', what);
    assert.match((err as Error).message, message, what);
  }
  const { readSecret: _, ...noSecrets } = pluginContext();
  const err = await Promise.resolve(plugin.create(env.config(), noSecrets)).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(err, 'input') && /cannot read Secrets/.test((err as Error).message), String(err));
});

test('a wrong account key is refused by the service: unauthenticated or forbidden, never retried as unavailable', async () => {
  const wrongKey = Buffer.alloc(64, 7).toString('base64');
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': { AZURE_STORAGE_ACCOUNT_KEY: wrongKey } }));
  const err = await storage.put('denied.zip', body('x')).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(err, 'unauthenticated') || isOpenDepotError(err, 'forbidden'), String(err));
  assert.not.ok(String((err as Error).message).includes(wrongKey));
});

test('a SAS URL reads only its own blob: not another blob, and no writes', async () => {
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': { AZURE_STORAGE_ACCOUNT_KEY: accountKey } }));
  await storage.put('scoped/a.zip', body('a'));
  await storage.put('scoped/b.zip', body('b'));
  const signed = await storage.presign!('scoped/a.zip', { ttlSeconds: 60, filename: 'vpc-aws-1.2.5.zip' });
  const ok = await fetch(signed.url);
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('content-disposition'), 'attachment; filename="vpc-aws-1.2.5.zip"');
  assert.is(await ok.text(), 'a');
  const other = await fetch(signed.url.replace('/scoped/a.zip?', '/scoped/b.zip?'));
  assert.is(other.status, 403, 'the signature covers one blob only');
  await other.body?.cancel();
  const write = await fetch(signed.url, { method: 'PUT', body: 'evil', headers: { 'x-ms-blob-type': 'BlockBlob' } });
  assert.is(write.status, 403, 'read permission only');
  await write.body?.cancel();
  assert.is((await collectBytes((await storage.get('scoped/a.zip')).body)).toString(), 'a');
  await expectCode(storage.presign!('scoped/a.zip', { ttlSeconds: 0 }), 'input', 'presign with a TTL of 0');
  await expectCode(storage.presign!('../a.zip', { ttlSeconds: 60 }), 'input', 'presign of a bad key');
});

test('Entra ID credentials: requests carry a bearer token and presign makes a user delegation SAS that Azurite honours', async () => {
  let tokens = 0;
  const credential: TokenCredential = {
    async getToken() {
      tokens++;
      return { token: entraToken(), expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
  const storage = new AzureBlobStorage({ accountUrl, accountName, container: env.container.containerName, auth: { kind: 'token', credential }, allowedEndpointHosts: ['127.0.0.1'] });
  assert.ok(storage.capabilities.presign);
  await storage.put('entra/module.zip', body('via entra id'));
  assert.ok(tokens > 0, 'the token credential was used');
  const signed = await storage.presign!('entra/module.zip', { ttlSeconds: 120 });
  const query = new URL(signed.url).searchParams;
  assert.ok(query.get('skoid') && query.get('sktid'), `a user delegation SAS: ${[...query.keys()].join(',')}`);
  const response = await fetch(signed.url);
  assert.is(response.status, 200, await response.clone().text());
  assert.is(await response.text(), 'via entra id');
  const again = await storage.presign!('entra/module.zip', { ttlSeconds: 60 });
  assert.is(new URL(again.url).searchParams.get('skt'), query.get('skt'), 'the user delegation key is reused');
});

test('a writer whose staged blocks another writer’s commit discarded is refused with a conflict; the other object stays', async () => {
  const storage = await plugin.create(env.config(), pluginContext({ 'azure-storage': { AZURE_STORAGE_ACCOUNT_KEY: accountKey } }));
  let resume: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => (resume = resolve));
  let staged: () => void = () => undefined;
  const firstBlockSent = new Promise<void>((resolve) => (staged = resolve));
  const slow = storage.put(
    'contested.zip',
    (async function* () {
      yield Buffer.alloc(4 * 1024 * 1024, 1); // one whole block: staged at once
      staged();
      await paused;
      yield Buffer.from('tail');
    })(),
  );
  await firstBlockSent;
  // Wait until the block has reached the service, uncommitted.
  const blocks = () =>
    env.container
      .getBlockBlobClient('contested.zip')
      .getBlockList('uncommitted')
      .then(
        (l) => l.uncommittedBlocks?.length ?? 0,
        () => 0,
      );
  for (let i = 0; (await blocks()) === 0; i++) {
    assert.ok(i < 100, 'the first block was never staged');
    await new Promise((r) => setTimeout(r, 50));
  }
  const winner = await storage.put('contested.zip', body('the other writer'));
  resume();
  const err = await expectCode(slow, 'conflict', 'the writer whose blocks were discarded');
  assert.match((err as Error).message, 'another writer committed');
  assert.equal(await storage.stat('contested.zip'), winner);
  assert.is((await collectBytes((await storage.get('contested.zip')).body)).toString(), 'the other writer');
});

test('keys live under the prefix; bad keys and ranges are input errors', async () => {
  const storage = new AzureBlobStorage({
    accountUrl,
    accountName,
    container: env.container.containerName,
    auth: { kind: 'shared-key', accountKey },
    prefix: 'opendepot',
    allowedEndpointHosts: ['127.0.0.1'],
  });
  await storage.put('modules/a/1.0.0.zip', body('1'));
  const names: string[] = [];
  for await (const blob of env.container.listBlobsFlat()) names.push(blob.name);
  assert.equal(names, ['opendepot/modules/a/1.0.0.zip']);
  for (const bad of ['trailing.', 'a/b./c', 'tab\there', 'back\\slash']) await expectCode(storage.stat(bad), 'input', `stat(${JSON.stringify(bad)})`);
  await expectCode(storage.get('modules/a/1.0.0.zip', { range: { start: 5 } }), 'input', 'a range past the end');
  assert.throws(() => new AzureBlobStorage({ accountUrl, accountName, container: 'x', auth: { kind: 'shared-key', accountKey }, prefix: '../up', allowedEndpointHosts: ['127.0.0.1'] }), /prefix/);
});

test('a missing container: get and stat are not_found naming it, put is unavailable with a hint to create it', async () => {
  const storage = await plugin.create(env.config({ container: 'does-not-exist' }), pluginContext({ 'azure-storage': { AZURE_STORAGE_ACCOUNT_KEY: accountKey } }));
  for (const err of [await expectCode(storage.get('x.zip'), 'not_found', 'get'), await expectCode(storage.stat('x.zip'), 'not_found', 'stat')]) {
    assert.match((err as Error).message, 'does-not-exist');
  }
  const err = await expectCode(storage.put('x.zip', body('x')), 'unavailable', 'put');
  assert.match(String((err as { hint?: string }).hint), 'Create the container does-not-exist');
  await storage.delete('x.zip'); // already gone: success
});

test('an unreachable account is unavailable (transient), not a crash', async () => {
  const port = await freePort();
  const storage = new AzureBlobStorage({
    accountUrl: `https://127.0.0.1:${port}/${accountName}`,
    accountName,
    container: 'c1c',
    auth: { kind: 'shared-key', accountKey },
    allowedEndpointHosts: ['127.0.0.1'],
    pipeline: { retryOptions: { maxTries: 1 } },
  });
  await expectCode(storage.stat('x.zip'), 'unavailable', 'stat');
  await expectCode(storage.put('x.zip', body('x')), 'unavailable', 'put');
});

/** A TCP listener on 127.0.0.2 that counts connections: the foreign host of the attacks. */
async function foreignListener(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: TcpServer = createTcpServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { port: (server.address() as { port: number }).port, connections: () => count, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('an accountUrl that is not an Azure blob host nor allowed is refused before a Secret is read or a connection made', async () => {
  const foreign = await foreignListener();
  try {
    const read: string[] = [];
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rl'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
        protocol: SASProtocol.HttpsAndHttp,
      },
      new StorageSharedKeyCredential(accountName, accountKey),
    ).toString();
    const secrets = {
      'azure-storage': { AZURE_STORAGE_CONNECTION_STRING: connectionString },
      'azure-sas': { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${accountUrl};SharedAccessSignature=${sas}` },
      'azure-sp': { AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_CLIENT_SECRET: 's' },
    };
    const context = pluginContext(secrets);
    const spying = {
      ...context,
      readSecret: async (name: string, key: string) => {
        read.push(`${name}/${key}`);
        return context.readSecret!(name, key);
      },
    };
    const foreignUrl = `https://127.0.0.2:${foreign.port}/${accountName}`;
    for (const secret of ['azure-storage', 'azure-sas', 'azure-sp']) {
      for (const allowed of [undefined, ['127.0.0.1'], [`127.0.0.2:${foreign.port + 1}`], ['*.blob.core.windows.net']]) {
        const attack = env.config({ accountUrl: foreignUrl, credentialsSecretRef: { name: secret } });
        if (allowed === undefined) delete attack.allowedEndpointHosts;
        else attack.allowedEndpointHosts = allowed;
        try {
          await plugin.create(attack, spying);
        } catch (err) {
          assert.ok(isOpenDepotError(err, 'input'), String(err));
          assert.is((err as { field?: string }).field, 'accountUrl');
          assert.match((err as Error).message, 'storageConfig.azureBlob.accountUrl');
          assert.match((err as { hint?: string }).hint ?? '', 'allowedEndpointHosts');
          continue;
        }
        assert.unreachable(`create accepted ${foreignUrl} (allowed: ${JSON.stringify(allowed)})`);
      }
    }
    // Workload identity (no Secret): refused before a token is asked for, too.
    const { credentialsSecretRef: _, ...ambient } = env.config({ accountUrl: foreignUrl });
    await expectCode(Promise.resolve(plugin.create(ambient, spying)), 'input', 'workload identity to a foreign host');
    assert.throws(() => new AzureBlobStorage({ accountUrl: foreignUrl, accountName, container: 'c1c', auth: { kind: 'shared-key', accountKey } }), /allowedEndpointHosts/);
    // Azure's own hosts need no allowlist, but only over https.
    assert.throws(() => new AzureBlobStorage({ accountUrl: 'http://acct.blob.core.windows.net', accountName, container: 'c1c', auth: { kind: 'shared-key', accountKey } }), /allowedEndpointHosts/);
    new AzureBlobStorage({ accountUrl: 'https://acct.blob.core.usgovcloudapi.net', accountName, container: 'c1c', auth: { kind: 'shared-key', accountKey } });
    assert.equal(read, [], 'no Secret was read');
    assert.is(foreign.connections(), 0, 'nothing connected to the foreign host');
  } finally {
    await foreign.close();
  }
});

test('a redirect from the allowed host to another host is not followed: no credentials reach it', async () => {
  const foreign = await foreignListener();
  // A CA of its own name: two CAs with one subject would confuse chain building with Azurite's.
  const certs = await createTestCertificates({ commonName: 'OpenDepot redirect test CA' });
  trustCaInProcess(certs.caPem);
  const redirects: string[] = [];
  const redirector = createHttpsServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
    redirects.push(`${req.method} ${req.url}`);
    res.writeHead(307, { Location: `https://127.0.0.2:${foreign.port}${req.url}` }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  try {
    const port = (redirector.address() as { port: number }).port;
    const storage = new AzureBlobStorage({
      accountUrl: `https://127.0.0.1:${port}/${accountName}`,
      accountName,
      container: 'c1c',
      auth: { kind: 'shared-key', accountKey },
      allowedEndpointHosts: [`127.0.0.1:${port}`],
      pipeline: { retryOptions: { maxTries: 1 } },
    });
    await storage.stat('x.zip').catch(() => undefined);
    await storage.put('x.zip', body('x')).catch(() => undefined);
    assert.ok(redirects.length > 0, 'the allowed host was asked');
    assert.is(foreign.connections(), 0, 'the redirect target was never contacted');
  } finally {
    redirector.close();
    await foreign.close();
  }
});

test('parseConnectionString keeps = inside values and strips a leading ? from the SAS', () => {
  assert.equal(parseConnectionString('AccountName=a;AccountKey=abc==;SharedAccessSignature=?sv=1&sig=x%3D;BlobEndpoint=https://h/a;'), {
    accountName: 'a',
    accountKey: 'abc==',
    sasToken: 'sv=1&sig=x%3D',
    blobEndpoint: 'https://h/a',
  });
});

test.run();
