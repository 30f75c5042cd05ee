/**
 * The web UI's sign-in: OpenID Connect authorization code with PKCE (openid-client) against the
 * first auth provider that offers a browser sign-in (`AuthProvider.browserLogin`, e.g. Dex). All
 * GET, as the registry is read-only:
 * - `GET /ui/login?next=<path under /ui/>`: a sign-in cookie (state, nonce, PKCE verifier; Lax,
 *   ten minutes) and a redirect to the authorization endpoint;
 * - `GET /ui/callback`: state checked against that cookie, the code exchanged (with the verifier;
 *   openid-client checks the ID token's iss, aud, exp and nonce), the ID token then authenticated
 *   by the provider itself (signature, groups), and the session cookie set;
 * - `GET /ui/logout`: the session cookie deleted.
 */
import Router from '@koa/router';
import { InputError, isOpenDepotError, NotFoundError, UnavailableError, type BrowserLogin, type Logger, type Principal } from '@opendepot/sdk';
import type { Context } from 'koa';
import type * as Oidc from 'openid-client';
import type { AccessControl, NamedAuthProvider } from '../auth/access-control.ts';
import { clearCookie, cookieValue, LOGIN_COOKIE, MAX_COOKIE_VALUE_BYTES, type PendingLogin, SESSION_COOKIE, setCookie } from '../auth/browser-session.ts';
import type { PublicBase } from '../http/public-base.ts';

export const LOGIN_PATH = '/ui/login';
export const CALLBACK_PATH = '/ui/callback';
export const LOGOUT_PATH = '/ui/logout';
/** Where a sign-in without a (valid) `next` ends. */
export const UI_HOME = '/ui/';

/** Options of {@link browserLoginRoutes}. */
export interface BrowserLoginRoutesOptions {
  access: AccessControl;
  baseOf: PublicBase;
  log: Logger;
}

/** Routes of the browser sign-in; all answer 404 when no provider offers one. */
export function browserLoginRoutes(options: BrowserLoginRoutesOptions): Router {
  const { access, baseOf, log } = options;
  const router = new Router();

  router.get(LOGIN_PATH, async (ctx) => {
    const { by, login } = offered(access);
    const sessions = access.sessions!;
    const oidc = await openidClient();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      next: safeNext(ctx.query.next),
      redirectUri: `${baseOf(ctx)}${CALLBACK_PATH}`,
      by: by.name,
    };
    const url = oidc.buildAuthorizationUrl(configurationOf(oidc, login), {
      redirect_uri: pending.redirectUri,
      scope: login.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const cookie = sessions.sealLogin(pending);
    ctx.set('Set-Cookie', setCookie(LOGIN_COOKIE, cookie.value, { maxAgeSeconds: cookie.expires - sessions.nowSeconds(), sameSite: 'Lax' }));
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url.href);
  });

  router.get(CALLBACK_PATH, async (ctx) => {
    const { login } = offered(access);
    const sessions = access.sessions!;
    const pending = sessions.openLogin(cookieValue(ctx.get('Cookie') || undefined, LOGIN_COOKIE));
    // Whatever happens next, this sign-in attempt is used up.
    ctx.append('Set-Cookie', clearCookie(LOGIN_COOKIE, 'Lax'));
    ctx.set('Cache-Control', 'no-store');
    if (pending === undefined) throw refused('the sign-in has expired or was started in another browser');
    const error = ctx.query.error;
    if (error !== undefined) {
      const code = typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? error : 'unknown';
      log.info('browser sign-in refused by the identity provider', { error: code, provider: pending.by });
      throw refused(`the identity provider refused the sign-in (${code})`);
    }
    if (ctx.query.state !== pending.state) {
      log.warn('browser sign-in with a state that does not match its sign-in cookie; refused', { provider: pending.by });
      throw refused('the sign-in does not match the one this browser started');
    }
    const by = access.provider(pending.by);
    if (by === undefined) throw refused('the sign-in was started with an identity provider that is no longer configured');
    const idToken = await exchangeCode(login, ctx, pending, log);
    const principal = await authenticateIdToken(by, idToken, pending.nonce, log);
    const exp = principal.claims.exp;
    if (typeof exp !== 'number') throw refused('the ID token has no expiry');
    const session = sessions.sealSession(principal, by.name, exp);
    if (session.value.length > MAX_COOKIE_VALUE_BYTES) {
      log.warn('browser sign-in refused: the session does not fit in a cookie', { subject: principal.subject, groups: principal.groups.length, bytes: session.value.length });
      throw refused('your account carries too many groups or claims to fit in a browser session; use tofu login instead');
    }
    ctx.append('Set-Cookie', setCookie(SESSION_COOKIE, session.value, { maxAgeSeconds: session.expires - sessions.nowSeconds(), sameSite: 'Strict' }));
    log.info('browser signed in', { subject: principal.subject, provider: by.name, groups: principal.groups.length, expires: new Date(session.expires * 1000).toISOString() });
    // A page, not a redirect: the navigation it starts is same-origin, so the browser sends the
    // SameSite=Strict session cookie with it. A redirect would continue the cross-site chain that
    // began at the identity provider, and the first page would look signed out.
    continueTo(ctx, `${baseOf(ctx)}${pending.next}`);
  });

  router.get(LOGOUT_PATH, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    // Another site may not sign the user out (a link or image pointing here).
    if (ctx.get('Sec-Fetch-Site').toLowerCase() !== 'cross-site') ctx.set('Set-Cookie', clearCookie(SESSION_COOKIE, 'Strict'));
    ctx.redirect(`${baseOf(ctx)}${UI_HOME}`);
  });

  return router;
}

/** The provider's browser sign-in, or a 404 when none is configured. */
function offered(access: AccessControl): { by: NamedAuthProvider; login: BrowserLogin } {
  const offer = access.sessions === undefined ? undefined : access.browserLogin();
  if (offer === undefined) {
    throw new NotFoundError('browser sign-in is not configured: no auth provider offers it (configure @opendepot/plugin-dex)');
  }
  return offer;
}

/**
 * The page to go to after the sign-in: `next` when it is a path under `/ui/` of this server
 * (no scheme, host, backslash or dot segment can lead elsewhere), otherwise {@link UI_HOME}.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/ui/') || next.length > 2048) return UI_HOME;
  if (/[\\\s\x00-\x1f\x7f]/.test(next) || next.includes('//')) return UI_HOME;
  const probe = 'https://registry.invalid';
  let url: URL;
  try {
    url = new URL(next, probe);
  } catch {
    return UI_HOME;
  }
  // Dot segments (also encoded ones) would resolve out of /ui/.
  if (url.origin !== probe || !url.pathname.startsWith('/ui/') || /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(next)) return UI_HOME;
  return `${url.pathname}${url.search}`;
}

// openid-client is imported on the first sign-in: registries without browser sign-in never load it.
let openidClientModule: Promise<typeof Oidc> | undefined;
const openidClient = (): Promise<typeof Oidc> => (openidClientModule ??= import('openid-client'));

/** openid-client's view of the issuer, built from what the provider says (no discovery here). */
function configurationOf(oidc: typeof Oidc, login: BrowserLogin): Oidc.Configuration {
  const configuration = new oidc.Configuration(
    { issuer: login.issuer, authorization_endpoint: login.authorizationEndpoint, token_endpoint: login.tokenEndpoint },
    login.clientId,
    login.clientSecret,
    login.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(login.clientSecret),
  );
  // The provider decided where plain HTTP is allowed (plugin-dex: loopback, or allowInsecureHttp).
  if (new URL(login.tokenEndpoint).protocol === 'http:') oidc.allowInsecureRequests(configuration);
  return configuration;
}

/** The code exchange; the ID token it returns (its iss, aud, exp and nonce checked by openid-client). */
async function exchangeCode(login: BrowserLogin, ctx: Context, pending: PendingLogin, log: Logger): Promise<string> {
  // openid-client sends this URL without its query as redirect_uri: the one /ui/login sent.
  const current = new URL(pending.redirectUri);
  current.search = ctx.querystring;
  const oidc = await openidClient();
  let tokens: Awaited<ReturnType<typeof Oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(configurationOf(oidc, login), current, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    const { code, error } = err as { code?: string; error?: string };
    // Never the response body or the code: error codes only.
    if (code === 'OAUTH_RESPONSE_BODY_ERROR' || code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR' || code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || code === 'OAUTH_INVALID_RESPONSE') {
      log.warn('browser sign-in: the code exchange was refused', { provider: pending.by, code, error });
      throw refused('the identity provider did not complete the sign-in');
    }
    log.error('browser sign-in: the token endpoint could not be reached', { provider: pending.by, code, error: err instanceof Error ? err.message : String(err) });
    throw new UnavailableError('the identity provider cannot be reached right now; try again', { retryAfterMs: 5_000 });
  }
  if (typeof tokens.id_token !== 'string') throw refused('the identity provider returned no ID token');
  return tokens.id_token;
}

/** The provider's principal of the ID token, which must carry the sign-in's nonce. */
async function authenticateIdToken(by: NamedAuthProvider, idToken: string, nonce: string, log: Logger): Promise<Principal> {
  let decision;
  try {
    decision = await by.provider.authenticate({ method: 'GET', path: CALLBACK_PATH, headers: { authorization: `Bearer ${idToken}` } });
  } catch (err) {
    if (isOpenDepotError(err)) throw err;
    throw new UnavailableError('the registry cannot check the sign-in right now', { cause: err });
  }
  if (decision.decision !== 'allow') {
    log.warn('browser sign-in: the provider did not accept the ID token', { provider: by.name, decision: decision.decision });
    throw refused('the sign-in was not accepted');
  }
  if (decision.principal.claims.nonce !== nonce) throw refused('the sign-in does not match the one this browser started');
  return decision.principal;
}

function refused(why: string): InputError {
  return new InputError(`${why}: start again at ${LOGIN_PATH}`);
}

/** A page that takes the browser on to `url` (same origin) at once. */
function continueTo(ctx: Context, url: string): void {
  const href = escapeHtml(url);
  ctx.status = 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Signed in</title></head><body><p>Signed in. <a href="${href}">Continue</a></p></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
