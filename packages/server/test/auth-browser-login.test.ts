/**
 * The web UI's browser sign-in, all real: `startServer` over HTTPS (test CA) against the real
 * kube-apiserver, anonymous access off, `@opendepot/plugin-dex` against a real Dex whose web-UI
 * client is confidential (its secret in a file), and the test bed playing the browser through
 * Dex's own login form: `/ui/login` → Dex → `/ui/callback` → the session cookie. The cookie then
 * carries the principal on `/ui/` and `/opendepot/api/` paths (GroupBindings deciding), and on
 * nothing else.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import { createLogger, parseConfig } from '@opendepot/core';
import { browserLogin, createTestCertificates, DEX_DEMO_PASSWORD, dexAccessToken, dropNamespace, freePort, freshNamespace, kubectlOk, startDex, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { BrowserSessions, LOGIN_COOKIE, SESSION_COOKIE } from '../src/auth/browser-session.ts';
import { safeNext } from '../src/routes/browser-login.ts';
import { startServer, type ListeningServer, type RunningServer } from '../src/index.ts';
import { rawRequest, type RawResponse } from './support/http.ts';

const CLI_CLIENT = 'opendepot-cli';
const UI_CLIENT = 'opendepot-ui';
const UI_SECRET = `ui-secret-${randomBytes(8).toString('hex')}`;
const cp = await useControlPlane();
const team = await freshNamespace(cp, 'browser-login');
const port = await freePort();
const base = `https://127.0.0.1:${port}`;
const dex = await startDex({
  users: [
    { email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team'] },
    // More groups than a cookie holds.
    { email: 'many@example.com', username: 'many', groups: Array.from({ length: 200 }, (_, i) => `a-rather-long-group-name-${i}`) },
  ],
  clients: [
    { id: CLI_CLIENT, public: true },
    { id: UI_CLIENT, secret: UI_SECRET, redirectURIs: [`${base}/ui/callback`] },
  ],
  // Shorter than the session cap (8 h): the session must end with the ID token.
  idTokens: '1h',
});
let dir: string;
let caPem: string;
let downloadSecret: Buffer;
let server: RunningServer;
let pages: ListeningServer;
const logs: Record<string, unknown>[] = [];

interface Cookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

function cookiesOf(res: RawResponse): Cookie[] {
  const lines = res.headers['set-cookie'] ?? [];
  return (Array.isArray(lines) ? lines : [lines]).map((line) => {
    const [pair = '', ...rest] = line.split(';');
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const a of rest) {
      const [k = '', v] = a.trim().split('=');
      attributes[k.toLowerCase()] = v ?? true;
    }
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
  });
}

function cookieNamed(res: RawResponse, name: string): Cookie {
  const cookie = cookiesOf(res).find((c) => c.name === name);
  assert.ok(cookie, `${name} is set (${JSON.stringify(res.headers['set-cookie'])})`);
  return cookie!;
}

const get = (path: string, headers: Record<string, string> = {}): Promise<RawResponse> => rawRequest(`${base}${path}`, { headers, ca: caPem });

/** Starts a sign-in: the redirect to Dex and the sign-in cookie. */
async function startLogin(next?: string): Promise<{ res: RawResponse; authorization: URL; login: Cookie }> {
  const res = await get(`/ui/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
  assert.is(res.status, 302, res.body.toString());
  return { res, authorization: new URL(String(res.headers.location)), login: cookieNamed(res, LOGIN_COOKIE) };
}

/** The whole sign-in as a browser does it; the callback's answer and the session cookie. */
async function signIn(next?: string): Promise<{ callback: RawResponse; session: Cookie; callbackUrl: URL; login: Cookie }> {
  const { callback, callbackUrl, login } = await completeLogin(next, 'alice@example.com');
  assert.is(callback.status, 200, callback.body.toString());
  return { callback, session: cookieNamed(callback, SESSION_COOKIE), callbackUrl, login };
}

/** Sign-in, Dex's form and the callback for `user`, whatever the callback answers. */
async function completeLogin(next: string | undefined, user: string): Promise<{ callback: RawResponse; callbackUrl: URL; login: Cookie }> {
  const { authorization, login } = await startLogin(next);
  const { callback: callbackUrl } = await browserLogin(authorization, { login: user, password: DEX_DEMO_PASSWORD });
  assert.is(callbackUrl.origin + callbackUrl.pathname, `${base}/ui/callback`, 'Dex sends the browser back to the callback');
  const callback = await rawRequest(callbackUrl.href, { headers: { cookie: `${LOGIN_COOKIE}=${login.value}` }, ca: caPem });
  return { callback, callbackUrl, login };
}

const whoami = async (headers: Record<string, string> = {}) => JSON.parse((await get('/opendepot/api/v1/whoami', headers)).body.toString()) as Record<string, unknown>;
const withSession = (value: string, extra: Record<string, string> = {}) => ({ cookie: `${SESSION_COOKIE}=${value}`, ...extra });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-browser-login-'));
  const certs = await createTestCertificates();
  caPem = certs.caPem;
  downloadSecret = randomBytes(32);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);
  await writeFile(join(dir, 'ui-secret'), `${UI_SECRET}\n`);
  // The download-URL secret file holds text (the chart's Secret); the server takes its UTF-8 bytes.
  await writeFile(join(dir, 'download-secret'), downloadSecret.toString('hex'));
  const k = (obj: unknown) => kubectlOk(cp, ['apply', '-f', '-'], JSON.stringify(obj));
  for (const name of ['terraform-aws-vpc', 'terraform-gcp-net']) {
    await k({
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Module',
      metadata: { name, namespace: team },
      spec: { moduleConfig: { name, provider: 'aws', repoUrl: `https://github.com/example/${name}` }, versions: [{ version: '1.0.0' }] },
    });
  }
  await k({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'GroupBinding',
    metadata: { name: 'aws-platform', namespace: team },
    spec: { expression: '"aws-platform-team" in groups and email == "alice@example.com"', moduleResources: ['terraform-aws-*'], providerResources: [] },
  });
  const config = parseConfig(
    stringify({
      namespace: team,
      plugins: [
        { package: '@opendepot/plugin-fs' },
        { package: '@opendepot/plugin-dex', config: { issuerUrl: dex.issuer, clientId: CLI_CLIENT, browserClientId: UI_CLIENT, browserClientSecretFile: join(dir, 'ui-secret') } },
      ],
      storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: join(dir, 'storage') } } } },
      server: { port, metricsPort: 0, host: '127.0.0.1', tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } },
      auth: { anonymous: { enabled: false }, downloadUrlSecretFile: join(dir, 'download-secret') },
    }),
    { env: {} },
  ).config;
  server = await startServer({ config, kubeconfigPath: cp.kubeconfigPath, logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } }) });
  await server.synced;
  // A stand-in for a web UI page that reads one module: the grant check the pages will make.
  const access = server.registry.access;
  const page = new Router();
  page.get('/ui/test-module/:name', async (ctx) => {
    await access.require(ctx, { kind: 'Module', namespace: team, name: ctx.params.name! });
    ctx.body = { granted: ctx.params.name, subject: (await access.identify(ctx)).principal?.subject };
  });
  server.registry.app.use(page.routes());
  // The app's middleware is composed when a listener starts: a second listener serves the page too.
  pages = await server.registry.listen({ port: 0, host: '127.0.0.1', tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, closeGraceMs: 100 });
});

test.after(async () => {
  await pages?.close();
  await server?.stop();
  await dex.stop();
  await dropNamespace(cp, team);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('/ui/login sends the browser to Dex with PKCE (S256), state, nonce, the web UI client and /ui/callback, behind a Lax sign-in cookie', async () => {
  const { res, authorization, login } = await startLogin('/ui/modules');
  assert.is(authorization.origin + authorization.pathname, dex.endpoints.authz);
  const q = authorization.searchParams;
  assert.is(q.get('client_id'), UI_CLIENT);
  assert.is(q.get('redirect_uri'), `${base}/ui/callback`);
  assert.is(q.get('response_type'), 'code');
  assert.is(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok((q.get('state') ?? '').length >= 20 && (q.get('nonce') ?? '').length >= 20);
  assert.equal(q.get('scope')?.split(' '), ['openid', 'profile', 'email', 'groups']);
  assert.not.ok(authorization.href.includes(UI_SECRET), 'the client secret stays on the server');
  assert.equal(login.attributes, { path: '/', 'max-age': '600', httponly: true, secure: true, samesite: 'Lax' });
  assert.is(res.headers['cache-control'], 'no-store');
});

test('the whole sign-in: the session cookie is HttpOnly, Secure, SameSite=Strict, Path=/, ends with the ID token, and whoami sees alice', async () => {
  assert.equal(await whoami(), { signedIn: false, subject: null, groups: [], provider: null, via: null, loginUrl: '/ui/login' });
  const { callback, session } = await signIn('/ui/modules?q=vpc');
  const { httponly, secure, samesite, path, 'max-age': maxAge } = session.attributes;
  assert.equal({ httponly, secure, samesite, path }, { httponly: true, secure: true, samesite: 'Strict', path: '/' });
  assert.not.ok('domain' in session.attributes, '__Host- cookies carry no Domain');
  // Dex's ID tokens live 1 h here: the session ends with the token, not at the 8 h cap.
  assert.ok(Number(maxAge) > 3500 && Number(maxAge) <= 3600, `Max-Age ${String(maxAge)}`);
  const cleared = cookieNamed(callback, LOGIN_COOKIE);
  assert.is(cleared.attributes['max-age'], '0', 'the sign-in cookie is used up');
  // A same-origin page takes the browser on (a redirect would keep the cross-site chain from Dex).
  assert.match(callback.body.toString(), `<meta http-equiv="refresh" content="0;url=${base}/ui/modules?q=vpc">`);
  const me = await whoami(withSession(session.value));
  assert.type(me.subject, 'string');
  assert.ok(String(me.subject).length > 0);
  assert.equal(me, { signedIn: true, subject: me.subject, groups: ['aws-platform-team'], provider: 'dex', via: 'session', loginUrl: '/ui/login' });
  assert.ok(logs.some((l) => l.msg === 'browser signed in' && typeof l.subject === 'string' && l.provider === 'dex'));
});

test('a session reads what the GroupBindings grant (claims included), nothing else, and never on the registry protocols', async () => {
  const { session } = await signIn();
  const page = (name: string, headers: Record<string, string> = {}) => rawRequest(`${pages.url}/ui/test-module/${name}`, { headers, ca: caPem });
  const granted = await page('terraform-aws-vpc', withSession(session.value));
  assert.is(granted.status, 200, granted.body.toString());
  assert.is((await page('terraform-gcp-net', withSession(session.value))).status, 403);
  assert.is((await page('terraform-aws-vpc')).status, 401, 'no cookie: nobody');
  // tofu never sends cookies, and a cookie must not authorize a download.
  const versions = await get(`/opendepot/modules/v1/${team}/terraform-aws-vpc/aws/versions`, withSession(session.value));
  assert.is(versions.status, 401);
  // An Authorization header decides alone, even a bad one next to a good cookie.
  assert.is((await page('terraform-aws-vpc', withSession(session.value, { authorization: 'Bearer not-a-token' }))).status, 401);
  assert.ok(logs.some((l) => l.msg === 'access decision' && l.via === 'browser session' && l.decision === 'allow' && typeof l.subject === 'string'));
});

test('the cookie is ignored cross-site; same-origin, same-site and typed-in navigations keep it', async () => {
  const { session } = await signIn();
  assert.is((await whoami(withSession(session.value, { 'sec-fetch-site': 'cross-site' }))).signedIn, false);
  const page = await rawRequest(`${pages.url}/ui/test-module/terraform-aws-vpc`, { headers: withSession(session.value, { 'sec-fetch-site': 'cross-site' }), ca: caPem });
  assert.is(page.status, 401);
  for (const site of ['same-origin', 'same-site', 'none']) assert.is((await whoami(withSession(session.value, { 'sec-fetch-site': site }))).signedIn, true, site);
});

test('forged, tampered and expired cookies are ignored', async () => {
  const { session } = await signIn();
  const real = await whoami(withSession(session.value));
  const alice = { subject: String(real.subject), provider: 'dex', groups: ['aws-platform-team'], claims: { email: 'alice@example.com' } };
  const hour = Math.floor(Date.now() / 1000) + 3600;
  // The server's own key (derived from the download-URL secret) makes a cookie it accepts: the checks below can fail.
  const sameKey = new BrowserSessions({ secret: Buffer.from(downloadSecret.toString('hex'), 'utf8') });
  assert.is((await whoami(withSession(sameKey.sealSession(alice, 'dex', hour).value))).signedIn, true, 'a cookie under the server key');
  const forged = new BrowserSessions({ secret: randomBytes(32) }).sealSession(alice, 'dex', hour).value;
  assert.is((await whoami(withSession(forged))).signedIn, false, 'another key');
  const [payload, mac] = session.value.split('.') as [string, string];
  const body = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${Buffer.from(JSON.stringify({ ...body, grp: ['aws-platform-team', 'admins'] })).toString('base64url')}.${mac}`;
  assert.is((await whoami(withSession(tampered))).signedIn, false, 'groups changed');
  const longer = `${Buffer.from(JSON.stringify({ ...body, exp: Number(body.exp) + 86400 })).toString('base64url')}.${mac}`;
  assert.is((await whoami(withSession(longer))).signedIn, false, 'expiry extended');
  const past = new BrowserSessions({ secret: Buffer.from(downloadSecret.toString('hex'), 'utf8'), now: () => Date.now() - 10 * 3600_000 });
  const expired = past.sealSession(alice, 'dex', Math.floor(Date.now() / 1000) - 9 * 3600).value;
  assert.is((await whoami(withSession(expired))).signedIn, false, 'expired');
  assert.is((await whoami(withSession(sameKey.sealSession(alice, 'no-such-provider', hour).value))).signedIn, false, 'a provider no longer configured');
  assert.is((await whoami(withSession('garbage'))).signedIn, false);
  // A second cookie of the same name (planted by a sibling subdomain, say) is not guessed between.
  assert.is((await whoami({ cookie: `${SESSION_COOKIE}=${session.value}; ${SESSION_COOKIE}=${forged}` })).signedIn, false);
});

test('a bad or missing state, a missing sign-in cookie and a replayed code are refused', async () => {
  const { login } = await startLogin();
  const badState = await get('/ui/callback?code=abc&state=not-the-state', { cookie: `${LOGIN_COOKIE}=${login.value}` });
  assert.is(badState.status, 400);
  assert.match(badState.body.toString(), 'start again at /ui/login');
  assert.not.ok(cookiesOf(badState).some((c) => c.name === SESSION_COOKIE));
  assert.is((await get('/ui/callback?code=abc', { cookie: `${LOGIN_COOKIE}=${login.value}` })).status, 400, 'no state');
  assert.is((await get('/ui/callback?code=abc&state=x')).status, 400, 'no sign-in cookie');
  const tampered = `${login.value.slice(0, -2)}AA`;
  assert.is((await get(`/ui/callback?code=abc&state=x`, { cookie: `${LOGIN_COOKIE}=${tampered}` })).status, 400, 'a tampered sign-in cookie');
  assert.is((await get('/ui/callback?error=access_denied&state=x', { cookie: `${LOGIN_COOKIE}=${login.value}` })).status, 400, 'Dex said no');
  // The code is Dex's to honour once: the same callback again is refused.
  const first = await signIn();
  const replay = await rawRequest(first.callbackUrl.href, { headers: { cookie: `${LOGIN_COOKIE}=${first.login.value}` }, ca: caPem });
  assert.is(replay.status, 400, replay.body.toString());
  assert.not.ok(cookiesOf(replay).some((c) => c.name === SESSION_COOKIE));
});

test('a principal too large for a cookie is refused with a message, not handed to the browser to drop', async () => {
  const { callback } = await completeLogin(undefined, 'many@example.com');
  assert.is(callback.status, 400);
  assert.match(callback.body.toString(), 'too many groups');
  assert.not.ok(cookiesOf(callback).some((c) => c.name === SESSION_COOKIE));
});

test('next: only a path under /ui/ of this server; anything else ends at /ui/', async () => {
  const { callback } = await signIn('https://evil.example');
  assert.match(callback.body.toString(), `content="0;url=${base}/ui/"`);
  assert.not.match(callback.body.toString(), 'evil.example');
  for (const bad of [
    'https://evil.example/ui/x',
    '//evil.example/ui/',
    '/\\evil.example',
    '/ui/../metrics',
    '/ui/%2e%2e/x',
    '/other',
    'javascript:alert(1)',
    '/ui/\nx',
    undefined,
    ['/ui/a', '/ui/b'],
  ]) {
    assert.is(safeNext(bad), '/ui/', String(bad));
  }
  assert.is(safeNext('/ui/modules/team/vpc?version=1.0.0#readme'), '/ui/modules/team/vpc?version=1.0.0');
  assert.is(safeNext('/ui/'), '/ui/');
});

test('logout clears the session cookie, unless another site asks', async () => {
  const { session } = await signIn();
  const crossSite = await get('/ui/logout', withSession(session.value, { 'sec-fetch-site': 'cross-site' }));
  assert.is(crossSite.status, 302);
  assert.is(crossSite.headers['set-cookie'], undefined);
  const res = await get('/ui/logout', withSession(session.value, { 'sec-fetch-site': 'same-origin' }));
  assert.is(res.status, 302);
  assert.is(res.headers.location, `${base}/ui/`);
  const cleared = cookieNamed(res, SESSION_COOKIE);
  assert.equal({ value: cleared.value, maxAge: cleared.attributes['max-age'], samesite: cleared.attributes.samesite }, { value: '', maxAge: '0', samesite: 'Strict' });
});

test('a token of the tofu login client still works, and no secret, token or cookie reaches the log', async () => {
  const token = await dexAccessToken(dex.endpoints, { clientId: CLI_CLIENT, scopes: ['openid', 'profile', 'email', 'groups'], port: await freePort() });
  assert.is((await rawRequest(`${pages.url}/ui/test-module/terraform-aws-vpc`, { headers: { authorization: `Bearer ${token}` }, ca: caPem })).status, 200);
  assert.is((await get(`/opendepot/modules/v1/${team}/terraform-aws-vpc/aws/versions`, { authorization: `Bearer ${token}` })).status, 200);
  const { session } = await signIn();
  const text = JSON.stringify(logs);
  assert.not.ok(text.includes(UI_SECRET), 'the client secret');
  assert.not.ok(text.includes(session.value.split('.')[1]!), 'a session cookie');
  assert.not.ok(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(text), 'a JWT');
});

test.run();
