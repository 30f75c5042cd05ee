/**
 * The plugin against a real Dex: tokens from the real authorization code + PKCE flow (Dex's own
 * login form, driven over HTTP) authenticate with the user's groups; `login.v1` is what
 * `tofu login` needs; every token of the JWT attack set is denied with the same short reason,
 * the detail only in the log; tokens that are not ours are left to the next provider.
 */
import { createPublicKey, createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dexAccessToken, browserLogin, DEX_DEMO_PASSWORD, freePort, startDex, type Dex } from '@opendepot/testbed';
import { isOpenDepotError, type AuthDecision, type AuthProvider } from '@opendepot/sdk';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { DENY_REASON, type DexAuthConfig, type DexAuthProvider } from '../src/index.ts';
import { b64json, partsOf, pluginContext, request, startCountingProxy, startKeyIssuer, type LogLine } from './support.ts';

const CLIENT = 'opendepot-cli';
const OTHER_CLIENT = 'other-app';
const dex = await startDex({
  users: [
    { email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team', 'developers'] },
    { email: 'bob@example.com', username: 'bob' },
  ],
  clients: [
    { id: CLIENT, public: true },
    { id: OTHER_CLIENT, public: true },
  ],
});
const opened: AuthProvider[] = [];
const stopped: Array<() => Promise<void>> = [];

async function create(extra: Partial<DexAuthConfig> = {}, context = pluginContext()): Promise<DexAuthProvider> {
  const provider = (await plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT, ...extra }, context)) as DexAuthProvider;
  opened.push(provider);
  return provider;
}

/** An access token for `login` through the real authorization code + PKCE flow. */
async function login(options: { login?: string; clientId?: string; scopes?: string[]; through?: Dex } = {}): Promise<string> {
  const through = options.through ?? dex;
  return dexAccessToken(through.endpoints, {
    clientId: options.clientId ?? CLIENT,
    scopes: options.scopes ?? ['openid', 'profile', 'email', 'groups'],
    ...(options.login !== undefined && { login: options.login }),
  });
}

function assertDenied(decision: AuthDecision, what: string, lines: LogLine[]): void {
  assert.equal(decision, { decision: 'deny', reason: DENY_REASON }, `${what}: must be denied with the one short reason`);
  const logged = lines.filter((l) => l.message === 'bearer token refused');
  assert.ok(logged.length > 0, `${what}: the detail must go to the log`);
}

test.after.each(async () => {
  for (const p of opened.splice(0)) await p.close?.();
  for (const stop of stopped.splice(0)) await stop();
});
test.after(() => dex.stop());

test("a token from the authorization code + PKCE flow authenticates with the user's groups and claims", async () => {
  const provider = await create();
  const token = await login();
  const decision = await provider.authenticate(request(token));
  assert.is(decision.decision, 'allow');
  if (decision.decision !== 'allow') return;
  const { principal } = decision;
  assert.is(principal.provider, 'dex');
  assert.equal(principal.groups, ['aws-platform-team', 'developers'], 'groups come from the static password entry, through the groups claim');
  assert.is(principal.subject, partsOf(token).payload.sub);
  assert.is(principal.claims.email, 'alice@example.com');
  assert.is(principal.claims.iss, dex.issuer);

  const bob = await provider.authenticate(request(await login({ login: 'bob@example.com' })));
  assert.is(bob.decision, 'allow');
  if (bob.decision === 'allow') assert.equal(bob.principal.groups, [], 'a user in no group has none');
  // Without the groups scope Dex leaves the claim out: the principal has no groups, it is not refused.
  const noScope = await provider.authenticate(request(await login({ scopes: ['openid', 'email'] })));
  assert.is(noScope.decision, 'allow');
  if (noScope.decision === 'allow') assert.equal(noScope.principal.groups, []);
});

test("login.v1 names the client, Dex's endpoints, ports 10000-10010 and the groups scope, and a login through exactly it works", async () => {
  const provider = await create();
  const discovery = await dex.discovery();
  const loginV1 = provider.loginV1();
  assert.equal(loginV1, {
    client: CLIENT,
    grant_types: ['authz_code'],
    authz: discovery.authorization_endpoint,
    token: discovery.token_endpoint,
    ports: [10000, 10010],
    scopes: ['openid', 'profile', 'email', 'groups'],
  });
  const withRefresh = await create({ offlineAccess: true, loginPorts: [20000, 20005] });
  assert.equal(withRefresh.loginV1().scopes, ['openid', 'profile', 'email', 'groups', 'offline_access']);
  assert.equal(withRefresh.loginV1().ports, [20000, 20005]);

  const accessToken = await dexAccessToken(loginV1, { clientId: loginV1.client, scopes: loginV1.scopes!, port: 10009 });
  const decision = await provider.authenticate(request(accessToken));
  assert.is(decision.decision, 'allow');
});

test('no credential, another scheme, an opaque token, a kubeconfig and a JWT of another issuer are left to the next provider', async () => {
  const context = pluginContext();
  const provider = await create({}, context);
  const kubernetesLike = `${b64json({ alg: 'RS256', kid: 'k8s' })}.${b64json({ iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:ci:deployer', aud: ['https://kubernetes.default.svc.cluster.local'], exp: 9999999999 })}.c2ln`;
  for (const [what, req] of [
    ['no Authorization header', request()],
    ['Basic credentials', request(undefined, `Basic ${Buffer.from('a:b').toString('base64')}`)],
    ['an empty bearer', request(undefined, 'Bearer ')],
    ['an opaque token', request('s.AbCdEf0123456789')],
    ['a base64 kubeconfig', request(Buffer.from('apiVersion: v1\nkind: Config\nclusters: []\n').toString('base64'))],
    ['two dots but no JSON', request('abc.def.ghi')],
    ['a Kubernetes ServiceAccount JWT', request(kubernetesLike)],
    ['a JWT with no iss', request(`${b64json({ alg: 'RS256' })}.${b64json({ sub: 'x' })}.c2ln`)],
    ['an oversized token', request(`${b64json({ alg: 'RS256' })}.${b64json({ iss: dex.issuer, pad: 'x'.repeat(20_000) })}.c2ln`)],
  ] as const) {
    assert.equal(await provider.authenticate(req), { decision: 'abstain' }, what);
  }
  assert.is(context.logger.lines.filter((l) => l.message === 'bearer token refused').length, 0);
});

test('the JWT attack set: each is denied with the same reason, and the log says which check failed', async () => {
  const context = pluginContext();
  const provider = await create({}, context);
  const token = await login();
  assert.is((await provider.authenticate(request(token))).decision, 'allow', 'the genuine token first');
  const { header, payload, raw } = partsOf(token);
  const jwks = (await (await fetch((await dex.discovery()).jwks_uri)).json()) as { keys: Array<Record<string, unknown>> };
  const publicPem = createPublicKey({ key: jwks.keys.find((k) => k.kid === header.kid) as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const { privateKey: attackerKey, publicKey: attackerPublic } = await generateKeyPair('RS256', { extractable: true });
  const hs256 = (secret: string | Buffer) => {
    const input = `${b64json({ ...header, alg: 'HS256' })}.${raw[1]}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const attacks: Array<[string, string, string]> = [
    ['alg none', `${b64json({ alg: 'none', typ: 'JWT' })}.${raw[1]}.`, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['alg none keeping the kid', `${b64json({ ...header, alg: 'none' })}.${raw[1]}.`, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['HS256 signed with the issuer public key (PEM)', hs256(publicPem), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['HS256 signed with the issuer public key (modulus)', hs256(Buffer.from(String(jwks.keys[0]!.n), 'base64url')), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['payload changed after signing (groups)', `${raw[0]}.${b64json({ ...payload, groups: ['admins'] })}.${raw[2]}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['payload changed after signing (exp)', `${raw[0]}.${b64json({ ...payload, exp: Number(payload.exp) + 86400 })}.${raw[2]}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['signature of another token', `${raw[0]}.${raw[1]}.${partsOf(await login({ login: 'bob@example.com' })).signature}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['no signature', `${raw[0]}.${raw[1]}.`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ["unknown kid (the attacker's key)", await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' }).sign(attackerKey), 'ERR_JWKS_NO_MATCHING_KEY'],
    ["the issuer's kid, the attacker's key", await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: String(header.kid) }).sign(attackerKey), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['wrong aud (a token Dex issued to another client)', await login({ clientId: OTHER_CLIENT }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    [
      "the attacker's key embedded in the header (jwk)",
      await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(attackerPublic) }).sign(attackerKey),
      // No kid: the issuer's keys are tried (the embedded one never is), and none verifies.
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    ],
    [
      "the attacker's key set named in the header (jku), with the issuer's kid",
      await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: String(header.kid), jku: 'http://127.0.0.1:1/keys' }).sign(attackerKey),
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    ],
    ['an algorithm Dex does not advertise (ES256)', `${b64json({ ...header, alg: 'ES256' })}.${raw[1]}.${raw[2]}`, 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['a non-string alg', `${b64json({ ...header, alg: 1 })}.${raw[1]}.${raw[2]}`, 'ERR_JWS_INVALID'],
    ['a critical header extension', `${b64json({ ...header, crit: ['exp'], exp: 1 })}.${raw[1]}.${raw[2]}`, 'ERR_JOSE_NOT_SUPPORTED'],
    ['unencoded payload (b64: false)', `${b64json({ ...header, b64: false, crit: ['b64'] })}.${raw[1]}.${raw[2]}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ];
  for (const [what, forged, check] of attacks) {
    context.logger.lines.length = 0;
    const decision = await provider.authenticate(request(forged));
    assertDenied(decision, what, context.logger.lines);
    const logged = context.logger.lines.find((l) => l.message === 'bearer token refused')!;
    assert.is(logged.fields.check, check, `${what}: ${JSON.stringify(logged.fields)}`);
    assert.not.ok(JSON.stringify(context.logger.lines).includes(forged.split('.')[2] || '\u0000'), `${what}: the log must not hold the signature`);
  }
});

test('expiry and not-before are checked against the host clock with the configured skew', async () => {
  const context = pluginContext();
  const provider = await create({ clockSkewSeconds: 60 }, context);
  const token = await login();
  const exp = Number(partsOf(token).payload.exp) * 1000;
  context.setOffset(exp - Date.now() + 30_000);
  assert.is((await provider.authenticate(request(token))).decision, 'allow', '30 s after exp is within the skew');
  context.setOffset(exp - Date.now() + 61_000);
  assertDenied(await provider.authenticate(request(token)), 'expired (a real Dex token, 61 s past exp)', context.logger.lines);
  assert.is(context.logger.lines.at(-1)!.fields.check, 'ERR_JWT_EXPIRED');
  const strict = await create({ clockSkewSeconds: 0 }, pluginContext({ offsetMs: exp - Date.now() + 1_000 }));
  assert.is((await strict.authenticate(request(token))).decision, 'deny', 'no skew: 1 s past exp is expired');

  // Dex sets no nbf: an issuer whose key the test holds signs tokens with one.
  const issuer = await startKeyIssuer();
  stopped.push(() => issuer.stop());
  const own = pluginContext();
  const ownProvider = (await plugin.create({ issuerUrl: issuer.issuer, clientId: CLIENT }, own)) as DexAuthProvider;
  const now = Math.floor(Date.now() / 1000);
  assert.is((await ownProvider.authenticate(request(await issuer.sign({ nbf: now + 30 })))).decision, 'allow', 'nbf 30 s ahead is within the skew');
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ nbf: now + 3600 }))), 'nbf an hour in the future', own.logger.lines);
  assert.is(own.logger.lines.at(-1)!.fields.check, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.match(String(own.logger.lines.at(-1)!.fields.detail), /nbf/);
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ exp: undefined }))), 'no exp', own.logger.lines);
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ iat: now + 3600 }))), 'iat an hour in the future', own.logger.lines);
  assert.is(own.logger.lines.at(-1)!.fields.check, 'iat_in_future');
  assert.is((await ownProvider.authenticate(request(await issuer.sign({ iat: now + 30 })))).decision, 'allow', 'iat 30 s ahead is within the skew');
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ aud: 'someone-else' }))), 'wrong aud', own.logger.lines);
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ groups: { admin: true } }))), 'a groups claim that is no list', own.logger.lines);
  assert.is(own.logger.lines.at(-1)!.fields.check, 'groups_claim');
  assertDenied(await ownProvider.authenticate(request(await issuer.sign({ sub: 42 as never }))), 'a numeric sub', own.logger.lines);
  assert.is(own.logger.lines.at(-1)!.fields.check, 'sub_claim');
  // Wrong iss, even correctly signed by this issuer's key: not this provider's token.
  assert.equal(await ownProvider.authenticate(request(await issuer.sign({ iss: `${issuer.issuer}/other` }))), { decision: 'abstain' });
  // A groups claim of another name, when configured.
  const roles = (await plugin.create({ issuerUrl: issuer.issuer, clientId: CLIENT, groupsClaim: 'roles' }, pluginContext())) as DexAuthProvider;
  const decision = await roles.authenticate(request(await issuer.sign({ roles: 'platform', groups: ['ignored'] })));
  assert.ok(decision.decision === 'allow' && decision.principal.groups.length === 1 && decision.principal.groups[0] === 'platform');
  const extra = (await plugin.create({ issuerUrl: issuer.issuer, clientId: CLIENT, additionalAudiences: ['ci-client'] }, pluginContext())) as DexAuthProvider;
  assert.is((await extra.authenticate(request(await issuer.sign({ aud: ['ci-client'] })))).decision, 'allow', 'an additional audience');
  // The web UI's client is an accepted audience without being listed; an unknown one is not.
  const browser = (await plugin.create({ issuerUrl: issuer.issuer, clientId: CLIENT, browserClientId: 'opendepot-ui' }, pluginContext())) as DexAuthProvider;
  assert.is((await browser.authenticate(request(await issuer.sign({ aud: ['opendepot-ui'] })))).decision, 'allow', 'the browser client');
  assert.is((await browser.authenticate(request(await issuer.sign({ aud: ['someone-else'] })))).decision, 'deny', 'another client');
});

test('a token from a second Dex instance claiming the same issuer is denied after one key refresh', async () => {
  const context = pluginContext();
  const provider = await create({}, context);
  assert.is((await provider.authenticate(request(await login()))).decision, 'allow');
  const impostor = await startDex({ issuer: dex.issuer, clients: [{ id: CLIENT, public: true }] });
  stopped.push(() => impostor.stop());
  const forged = await login({ through: impostor });
  assert.is(partsOf(forged).payload.iss, dex.issuer, 'it claims our issuer');
  assertDenied(await provider.authenticate(request(forged)), 'second Dex instance', context.logger.lines);

  // A second Dex with its own issuer: not ours at all.
  const other = await startDex({ clients: [{ id: CLIENT, public: true }] });
  stopped.push(() => other.stop());
  assert.equal(await provider.authenticate(request(await login({ through: other }))), { decision: 'abstain' });
});

test('internalIssuerUrl: discovery and keys go there, tokens and login.v1 keep the public issuer', async () => {
  const publicPort = await freePort(); // nothing listens there
  const hidden = await startDex({ issuer: `http://127.0.0.1:${publicPort}/dex`, clients: [{ id: CLIENT, public: true }] });
  stopped.push(() => hidden.stop());
  const proxy = await startCountingProxy(hidden.url);
  stopped.push(() => proxy.stop());
  const provider = (await plugin.create({ issuerUrl: hidden.issuer, clientId: CLIENT, internalIssuerUrl: `${proxy.url}/dex` }, pluginContext())) as DexAuthProvider;
  assert.is(provider.loginV1().authz, `${hidden.issuer}/auth`, 'browsers use the public issuer');
  // The browser sign-in: browsers go to the public authorization endpoint, the server exchanges codes inside.
  assert.equal(provider.browserLogin(), {
    issuer: hidden.issuer,
    authorizationEndpoint: `${hidden.issuer}/auth`,
    tokenEndpoint: `${proxy.url}/dex/token`,
    clientId: CLIENT,
    scopes: ['openid', 'profile', 'email', 'groups'],
  });
  const decision = await provider.authenticate(request(await login({ through: hidden })));
  assert.is(decision.decision, 'allow');
  assert.equal(proxy.paths, ['/dex/.well-known/openid-configuration', '/dex/keys']);
});

test('browserClientSecretFile: the secret is read from the file (trimmed) into browserLogin; a missing or empty file stops start-up naming the field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-dex-secret-'));
  stopped.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'secret'), 'ui-client-secret\n');
  await writeFile(join(dir, 'empty'), '\n');
  const provider = await create({ browserClientId: 'opendepot-ui', browserClientSecretFile: join(dir, 'secret') });
  assert.equal(provider.browserLogin(), {
    issuer: dex.issuer,
    authorizationEndpoint: `${dex.issuer}/auth`,
    tokenEndpoint: `${dex.issuer}/token`,
    clientId: 'opendepot-ui',
    clientSecret: 'ui-client-secret',
    scopes: ['openid', 'profile', 'email', 'groups'],
  });
  assert.is((await create()).browserLogin().clientId, CLIENT, 'default: the tofu login client');
  for (const file of ['missing', 'empty']) {
    const err = await Promise.resolve(plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT, browserClientSecretFile: join(dir, file) }, pluginContext())).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOpenDepotError(err, 'input'), `${file}: ${String(err)}`);
    assert.is((err as { field?: string }).field, 'auth.providers[1].config.browserClientSecretFile');
    assert.not.match((err as Error).message, 'ui-client-secret');
  }
});

test('start-up fails closed: a discovery document of another issuer, an unreachable issuer, http off loopback', async () => {
  const mismatch = await Promise.resolve(plugin.create({ issuerUrl: `${dex.issuer}/`, clientId: CLIENT }, pluginContext())).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(isOpenDepotError(mismatch, 'input'), String(mismatch));
  assert.match(String((mismatch as Error).message), /names another issuer/);
  assert.is((mismatch as { field?: string }).field, 'auth.providers[1].config.issuerUrl');

  const closed = await freePort();
  const started = Date.now();
  const context = pluginContext();
  const down = await Promise.resolve(plugin.create({ issuerUrl: `http://127.0.0.1:${closed}/dex`, clientId: CLIENT, discoveryTimeoutSeconds: 1 }, context)).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(isOpenDepotError(down, 'unavailable'), String(down));
  assert.ok(Date.now() - started < 10_000);
  assert.ok(context.logger.lines.some((l) => l.message === 'OIDC discovery failed; retrying'));

  for (const config of [
    { issuerUrl: 'http://dex.example.com/dex', clientId: CLIENT },
    { issuerUrl: dex.issuer, internalIssuerUrl: 'http://dex.opendepot-system.svc:5556/dex', clientId: CLIENT },
    { issuerUrl: dex.issuer, clientId: CLIENT, loginPorts: [10000, 10000] as [number, number] },
  ]) {
    const err = await Promise.resolve(plugin.create(config, pluginContext())).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOpenDepotError(err, 'input'), `${JSON.stringify(config)}: ${String(err)}`);
  }
});

test('when the key set cannot be fetched, authenticate fails as unavailable instead of deciding', async () => {
  const own = await startDex({ clients: [{ id: CLIENT, public: true }] });
  const provider = (await plugin.create({ issuerUrl: own.issuer, clientId: CLIENT }, pluginContext())) as DexAuthProvider;
  const token = await login({ through: own });
  await own.stop();
  const err = await provider.authenticate(request(token)).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(err, 'unavailable'), String(err));
});

test('while Dex is down, tokens signed with known keys keep verifying with the last key set', async () => {
  const own = await startDex({ clients: [{ id: CLIENT, public: true }] });
  const context = pluginContext();
  const provider = (await plugin.create({ issuerUrl: own.issuer, clientId: CLIENT, jwksCacheSeconds: 1, jwksRefreshCooldownSeconds: 2 }, context)) as DexAuthProvider;
  const token = await login({ through: own });
  assert.is((await provider.authenticate(request(token))).decision, 'allow');
  await own.stop();
  await new Promise((r) => setTimeout(r, 2_100)); // older than jwksCacheSeconds, and past the cooldown
  assert.is((await provider.authenticate(request(token))).decision, 'allow', 'the refresh fails, the last key set verifies');
  assert.ok(context.logger.lines.some((l) => l.message === 'could not refresh the OIDC issuer key set; keeping the last one'));
  assert.is((await provider.authenticate(request(token))).decision, 'allow', 'and within the cooldown no fetch is tried');
  assert.is(context.logger.lines.filter((l) => l.message === 'fetching the OIDC issuer key set').length, 2);
});

test('the browser half: Dex refuses a wrong password, and the approval screen is answered when Dex shows one', async () => {
  const discovery = await dex.discovery();
  const authz = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries({ client_id: CLIENT, redirect_uri: 'http://localhost:10003/login', response_type: 'code', scope: 'openid groups', state: 's1' })) authz.searchParams.set(k, v);
  const refused = await browserLogin(authz, { login: 'alice@example.com', password: 'wrong' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.match(String(refused), /refused the credentials/);

  const approving = await startDex({ approvalScreen: true, clients: [{ id: CLIENT, public: true }] });
  stopped.push(() => approving.stop());
  authz.href = authz.href.replace(dex.url, approving.url);
  const { callback, steps } = await browserLogin(authz, { login: 'alice@example.com', password: DEX_DEMO_PASSWORD });
  assert.equal(steps, ['GET /dex/auth', 'GET /dex/auth/local', 'GET /dex/auth/local/login', 'submit password form', 'GET /dex/approval', 'submit approval form']);
  assert.ok(callback.searchParams.get('code'));
  assert.is(callback.searchParams.get('state'), 's1');
  const provider = (await plugin.create({ issuerUrl: approving.issuer, clientId: CLIENT }, pluginContext())) as DexAuthProvider;
  assert.is((await provider.authenticate(request(await login({ through: approving })))).decision, 'allow');
});

test.run();
