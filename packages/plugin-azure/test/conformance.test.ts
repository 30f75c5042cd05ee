/**
 * The Azure plugin passes every case of the storage conformance suite against Azurite (over
 * HTTPS), created through the plugin as the host does, with the account key from a Secret.
 * Beyond the suite: Azurite refuses a SAS URL once it has expired.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { storageConformanceCases } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin from '../src/index.ts';
import { emptyContainer, pluginContext, startAzureTestEnv } from './support.ts';

const env = await startAzureTestEnv();
const secrets = { 'azure-storage': { AZURE_STORAGE_ACCOUNT_KEY: env.azurite.accountKey } };
const create = () => plugin.create(env.config(), pluginContext(secrets));

const cases = await storageConformanceCases({
  create,
  cleanup: () => emptyContainer(env.container),
  log: (message) => console.log(`    ${message}`),
});
for (const c of cases) test(c.name, c.run);

test('the suite checked presign: the backend declares it', () => {
  assert.ok(
    cases.some((c) => c.id === 'presign'),
    cases.map((c) => c.id).join(', '),
  );
});

test('Azurite refuses a SAS URL once it has expired, and served it before', async () => {
  const storage = await create();
  const key = 'expiry/module.zip';
  await storage.put(
    key,
    (async function* () {
      yield Buffer.from('expiring');
    })(),
  );
  const signed = await storage.presign!(key, { ttlSeconds: 2 });
  const before = await fetch(signed.url);
  assert.is(before.status, 200);
  assert.is(await before.text(), 'expiring');
  await sleep(Math.max(0, signed.expiresAt.getTime() - Date.now()) + 1500);
  const after = await fetch(signed.url);
  const text = await after.text();
  assert.is(after.status, 403, text);
  // Azurite answers AuthorizationFailure; Azure itself AuthenticationFailed.
  assert.match(after.headers.get('x-ms-error-code') ?? '', /^(AuthorizationFailure|AuthenticationFailed)$/, text);
  await emptyContainer(env.container);
});

test.after(() => env.stop());
test.run();
