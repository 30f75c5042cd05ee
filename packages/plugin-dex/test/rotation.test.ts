/**
 * Key rotation against a real Dex: a token signed with a key the cached set does not hold makes
 * the plugin fetch the key set once, and at most once per cooldown, however many such tokens
 * arrive. Dex is restarted on the same port with memory storage, so it signs with new keys.
 */
import { dexAccessToken, startDex } from '@opendepot/testbed';
import { generateKeyPair, SignJWT } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { DENY_REASON, type DexAuthProvider } from '../src/index.ts';
import { count, partsOf, pluginContext, request } from './support.ts';

const CLIENT = 'opendepot-cli';
const KEY_FETCH = 'fetching the OIDC issuer key set';
const dex = await startDex({ clients: [{ id: CLIENT, public: true }] });
test.after(() => dex.stop());

function login(): Promise<string> {
  return dexAccessToken(dex.endpoints, { clientId: CLIENT });
}

const { privateKey: attackerKey } = await generateKeyPair('RS256');
async function unknownKid(kid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: dex.issuer, aud: CLIENT, sub: 'x', iat: now, exp: now + 600 }).setProtectedHeader({ alg: 'RS256', kid }).sign(attackerKey);
}

test('tokens with unknown kids cost one key set fetch per cooldown, however many arrive', async () => {
  const context = pluginContext();
  const provider = (await plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT }, context)) as DexAuthProvider;
  assert.is((await provider.authenticate(request(await login()))).decision, 'allow');
  assert.is(count(context.logger, KEY_FETCH), 1, 'the first token fetches the set');
  const decisions = await Promise.all(Array.from({ length: 20 }, async (_, i) => provider.authenticate(request(await unknownKid(`forged-${i}`)))));
  for (const d of decisions) assert.equal(d, { decision: 'deny', reason: DENY_REASON });
  assert.is(count(context.logger, KEY_FETCH), 1, 'within the 30 s cooldown, unknown kids fetch nothing');
});

test('a rotation: the new key is fetched once on its first token; old and forged kids are denied, refetched only after the cooldown', async () => {
  const context = pluginContext();
  const provider = (await plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT, jwksRefreshCooldownSeconds: 2 }, context)) as DexAuthProvider;
  const before = await login();
  assert.is((await provider.authenticate(request(before))).decision, 'allow');
  assert.is((await provider.authenticate(request(before))).decision, 'allow', 'verified again, and now remembered');
  assert.is(count(context.logger, KEY_FETCH), 1);

  await new Promise((r) => setTimeout(r, 2_100)); // past the cooldown since the first fetch
  await dex.restart();
  const after = await login();
  assert.is.not(partsOf(after).header.kid, partsOf(before).header.kid, 'the restarted Dex signs with a new key');
  const concurrent = await Promise.all(Array.from({ length: 10 }, () => provider.authenticate(request(after))));
  for (const d of concurrent) assert.is(d.decision, 'allow', 'the unknown kid refreshed the set and the new key verifies');
  assert.is(count(context.logger, KEY_FETCH), 2, 'one fetch for the rotation, shared by 10 concurrent requests');
  assert.is((await provider.authenticate(request(after))).decision, 'allow');
  assert.is(count(context.logger, KEY_FETCH), 2, 'a known kid fetches nothing');

  // The old key is gone from the set (and the verification remembered with it forgotten); within
  // the cooldown that costs no fetch.
  assert.equal(await provider.authenticate(request(before)), { decision: 'deny', reason: DENY_REASON });
  assert.equal(await provider.authenticate(request(await unknownKid('forged-a'))), { decision: 'deny', reason: DENY_REASON });
  assert.is(count(context.logger, KEY_FETCH), 2);
  await new Promise((r) => setTimeout(r, 2_100));
  assert.equal(await provider.authenticate(request(await unknownKid('forged-b'))), { decision: 'deny', reason: DENY_REASON });
  assert.is(count(context.logger, KEY_FETCH), 3, 'after the cooldown an unknown kid refreshes once more');
});

test.run();
