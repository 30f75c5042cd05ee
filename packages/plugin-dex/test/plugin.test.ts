/** The package as the host loads it, and the pieces that need no issuer. */
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { bearerToken, claimedIssuer, configSchema, groupsOf, isLoopback, issuerFetch, MAX_TOKEN_LENGTH, resolveConfig } from '../src/index.ts';
import { b64json } from './support.ts';

test('default export: a branded auth plugin named dex, for this plugin API', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'auth');
  assert.is(plugin.name, 'dex');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
});

test('the config schema is draft-07, closed, requires the issuer and the client, and documents every property', () => {
  assert.is(configSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(configSchema.required, ['issuerUrl', 'clientId']);
  assert.is(configSchema.additionalProperties, false);
  const properties = configSchema.properties as Record<string, { description?: string; pattern?: string }>;
  for (const [name, p] of Object.entries(properties)) assert.ok((p.description ?? '').length > 20, name);
  const url = new RegExp(properties.issuerUrl!.pattern!);
  assert.ok(url.test('https://dex.example.com/dex') && url.test('http://127.0.0.1:5556/dex') && url.test('https://login.example.com'));
  assert.not.ok(url.test('dex.example.com') || url.test('https://u:p@dex.example.com') || url.test('https://dex.example.com/dex?x=1') || url.test('ftp://x'));
});

test('resolveConfig fills the defaults and refuses http off loopback, userinfo, and a port range clients cannot use', () => {
  const resolved = resolveConfig({ issuerUrl: 'https://dex.example.com/dex', clientId: 'cli' });
  assert.equal(resolved, {
    issuerUrl: 'https://dex.example.com/dex',
    clientId: 'cli',
    internalIssuerUrl: undefined,
    additionalAudiences: [],
    browserClientId: 'cli',
    browserClientSecretFile: undefined,
    groupsClaim: 'groups',
    clockSkewSeconds: 60,
    offlineAccess: false,
    loginPorts: [10000, 10010],
    jwksRefreshCooldownSeconds: 30,
    jwksCacheSeconds: 600,
    discoveryTimeoutSeconds: 60,
    allowInsecureHttp: false,
    verifiedTokenCacheSeconds: 60,
    verifiedTokenCacheMaxEntries: 10000,
  });
  const refused = (config: Parameters<typeof resolveConfig>[0], field: string) => {
    try {
      resolveConfig(config, 'auth.providers[0].config');
    } catch (err) {
      assert.ok(isOpenDepotError(err, 'input'), String(err));
      assert.is((err as { field?: string }).field, `auth.providers[0].config.${field}`);
      return;
    }
    assert.unreachable(`${JSON.stringify(config)} was accepted`);
  };
  refused({ issuerUrl: 'http://dex.example.com/dex', clientId: 'cli' }, 'issuerUrl');
  refused({ issuerUrl: 'https://dex.example.com/dex', internalIssuerUrl: 'http://dex.svc:5556/dex', clientId: 'cli' }, 'internalIssuerUrl');
  refused({ issuerUrl: 'https://u:p@dex.example.com/dex', clientId: 'cli' }, 'issuerUrl');
  refused({ issuerUrl: 'https://dex.example.com/dex', clientId: 'cli', loginPorts: [10010, 10000] }, 'loginPorts');
  refused({ issuerUrl: 'https://dex.example.com/dex', clientId: 'cli', loginPorts: [10000, 10000] }, 'loginPorts');
  refused({ issuerUrl: 'https://dex.example.com/dex', clientId: 'cli', loginPorts: [80, 10000] }, 'loginPorts');
  const internal = resolveConfig({ issuerUrl: 'https://dex.example.com/dex', internalIssuerUrl: 'http://dex.svc:5556/dex', clientId: 'cli', allowInsecureHttp: true });
  assert.is(internal.internalIssuerUrl, 'http://dex.svc:5556/dex');
  assert.is(resolveConfig({ issuerUrl: 'http://localhost:5556/dex', clientId: 'cli' }).issuerUrl, 'http://localhost:5556/dex');
});

test('isLoopback knows localhost, 127.0.0.0/8 and ::1 only', () => {
  for (const host of ['localhost', 'LOCALHOST', 'dex.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) assert.ok(isLoopback(host), host);
  for (const host of ['127.0.0.1.nip.io', 'localhost.example.com', '10.0.0.1', '0.0.0.0', 'dex']) assert.not.ok(isLoopback(host), host);
});

test('bearerToken takes the token of a Bearer header, any case, and nothing else', () => {
  assert.is(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.is(bearerToken('bearer abc'), 'abc');
  assert.is(bearerToken('BEARER   abc  '), 'abc');
  for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic YTpi', 'Bearer a b', 'Token abc', 'abc']) assert.is(bearerToken(header), undefined, String(header));
});

test('claimedIssuer reads iss of a compact JWS with JSON header and payload, and nothing of anything else', () => {
  const jwt = (header: unknown, payload: unknown, signature = 'c2ln') => `${b64json(header)}.${b64json(payload)}.${signature}`;
  assert.is(claimedIssuer(jwt({ alg: 'RS256' }, { iss: 'https://dex.example.com/dex' })), 'https://dex.example.com/dex');
  assert.is(claimedIssuer(jwt({ alg: 'none' }, { iss: 'https://i' }, '')), 'https://i', 'an empty signature still parses (alg none is refused later, as ours)');
  for (const [what, token] of [
    ['no iss', jwt({ alg: 'RS256' }, { sub: 'x' })],
    ['a numeric iss', jwt({ alg: 'RS256' }, { iss: 1 })],
    ['a payload that is no object', jwt({ alg: 'RS256' }, ['x'])],
    ['a header that is no JSON', `bm90IGpzb24.${b64json({ iss: 'https://i' })}.c2ln`],
    ['four parts', `${jwt({ alg: 'RS256' }, { iss: 'https://i' })}.x`],
    ['base64 padding', `${b64json({ alg: 'RS256' })}=.${b64json({ iss: 'https://i' })}.c2ln`],
    ['too long', jwt({ alg: 'RS256' }, { iss: 'https://i', pad: 'x'.repeat(MAX_TOKEN_LENGTH) })],
    ['a JWE (five parts)', 'a.b.c.d.e'],
  ] as const) {
    assert.is(claimedIssuer(token), undefined, what);
  }
});

test('groupsOf: a list of strings, one string, or nothing; anything else is malformed', () => {
  assert.equal(groupsOf(['a', 'b']), ['a', 'b']);
  assert.equal(groupsOf('a'), ['a']);
  assert.equal(groupsOf(undefined), []);
  assert.equal(groupsOf(null), []);
  assert.equal(groupsOf([]), []);
  for (const bad of [[1], ['a', null], { a: 1 }, 7, true]) assert.is(groupsOf(bad), undefined, JSON.stringify(bad));
});

test('issuerFetch sends URLs under the public issuer to the internal one, and others unchanged', async () => {
  const seen: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request) => {
    seen.push(String(input));
    return new Response('{}');
  }) as typeof fetch;
  try {
    const f = issuerFetch({ issuerUrl: 'https://dex.example.com/dex', internalIssuerUrl: 'http://dex.svc:5556/dex' });
    await f('https://dex.example.com/dex/.well-known/openid-configuration', {});
    await f('https://dex.example.com/dex/keys', {});
    await f('https://dex.example.com/dex', {});
    await f('https://dex.example.com/dexter/keys', {});
    await f('https://other.example.com/keys', {});
    const plain = issuerFetch({ issuerUrl: 'https://dex.example.com/dex', internalIssuerUrl: undefined });
    await plain('https://dex.example.com/dex/keys', {});
  } finally {
    globalThis.fetch = original;
  }
  assert.equal(seen, [
    'http://dex.svc:5556/dex/.well-known/openid-configuration',
    'http://dex.svc:5556/dex/keys',
    'http://dex.svc:5556/dex',
    'https://dex.example.com/dexter/keys',
    'https://other.example.com/keys',
    'https://dex.example.com/dex/keys',
  ]);
});

test.run();
