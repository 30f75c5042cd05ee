/**
 * The two halves of `tofu login` against a real Dex, over plain HTTP:
 * - {@link browserLogin} is the browser: it opens the authorization URL, follows Dex's redirects
 *   to its login form, submits the user's credentials (and the approval form, when Dex shows
 *   one) and stops at the redirect to the client's loopback `redirect_uri`, which it can also
 *   fetch, as a browser would, so a listening `tofu login` receives the code.
 * - {@link authorizationCodeLogin} is the CLI: PKCE (S256), state, the authorization URL, then
 *   the code exchange at the token endpoint, as the clients do with a `login.v1` entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { DEX_DEMO_PASSWORD } from './dex.ts';

/** A user's credentials for Dex's password form. */
export interface DexCredentials {
  login: string;
  password: string;
}

/** What {@link browserLogin} ends with. */
export interface BrowserLoginResult {
  /** The redirect to the client: `<redirect_uri>?code=…&state=…` (or `?error=…`). */
  callback: URL;
  /**
   * The status the client's listener answered the callback with, when `followCallback` was set;
   * `undefined` also when it closed the connection without answering (see {@link deliverCallback}).
   */
  callbackStatus?: number;
  /** What the browser did, e.g. `GET /dex/auth`, `submit password form`, `submit approval form`. */
  steps: string[];
}

const MAX_STEPS = 20;

/**
 * Plays the browser from `authorizationUrl` to the redirect back to its `redirect_uri`. Throws
 * when Dex refuses the credentials (it shows the form again) or answers with an error page.
 */
export async function browserLogin(authorizationUrl: string | URL, credentials: DexCredentials, options: { followCallback?: boolean } = {}): Promise<BrowserLoginResult> {
  const start = new URL(authorizationUrl);
  const redirectUri = start.searchParams.get('redirect_uri');
  if (redirectUri === null) throw new Error('the authorization URL has no redirect_uri');
  const cookies = new Map<string, string>();
  let request: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: start, method: 'GET' };
  let submittedPassword = false;
  const steps: string[] = [];
  for (let step = 0; step < MAX_STEPS; step++) {
    if (request.method === 'GET') steps.push(`GET ${request.url.pathname}`);
    const response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(cookies.size > 0 ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(request.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: request.body?.toString(),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      const next = new URL(location, request.url);
      if (next.href.startsWith(redirectUri)) {
        const callbackStatus = options.followCallback ? await deliverCallback(next) : undefined;
        return { callback: next, steps, ...(callbackStatus !== undefined && { callbackStatus }) };
      }
      request = { url: next, method: 'GET' };
      continue;
    }
    const html = await response.text();
    const passwordForm = formsOf(html).find((f) => f.fields.has('password'));
    // Dex answers wrong credentials with the form again (status 401).
    if (passwordForm !== undefined && submittedPassword) throw new Error(`Dex refused the credentials of ${credentials.login} (${response.status})`);
    if (!response.ok) throw new Error(`Dex answered ${response.status} at ${request.url.pathname}: ${textOf(html).slice(0, 300)}`);
    if (passwordForm !== undefined) {
      submittedPassword = true;
      steps.push('submit password form');
      const body = new URLSearchParams([...passwordForm.fields]);
      body.set('login', credentials.login);
      body.set('password', credentials.password);
      request = { url: new URL(passwordForm.action ?? request.url.href, request.url), method: 'POST', body };
      continue;
    }
    const approval = formsOf(html).find((f) => f.fields.get('approval') === 'approve');
    if (approval !== undefined) {
      steps.push('submit approval form');
      request = { url: new URL(approval.action ?? request.url.href, request.url), method: 'POST', body: new URLSearchParams([...approval.fields]) };
      continue;
    }
    throw new Error(`unexpected page from Dex at ${request.url.pathname}: ${textOf(html).slice(0, 300)}`);
  }
  throw new Error(`no redirect to ${redirectUri} after ${MAX_STEPS} steps`);
}

/**
 * Fetches the callback as a browser would, and returns the status the client's listener answered,
 * or `undefined` when it closed the connection without answering: Terraform 1.5.7 closes its
 * callback server (`server.Close()`, not `Shutdown`) as soon as its handler has passed the code
 * on, racing the handler's own 200, so a loaded machine sees "socket hang up" although the code
 * arrived (OpenTofu 1.12 shuts down gracefully). Whether the CLI took the code shows in how it
 * ends. To `127.0.0.1`: the CLIs bind that (tcp4) and name it `localhost` in `redirect_uri`,
 * which may resolve to `::1` first, where another process may hold the port. On a connection of
 * its own, outside any keep-alive pool.
 */
function deliverCallback(callback: URL): Promise<number | undefined> {
  const target = new URL(callback);
  if (target.hostname === 'localhost') target.hostname = '127.0.0.1';
  return new Promise((resolve, reject) => {
    const request = get(target, { agent: false, headers: { accept: 'text/html' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
      response.on('error', () => resolve(response.statusCode));
    });
    request.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(undefined) : reject(err)));
  });
}

/** Options of {@link authorizationCodeLogin}. */
export interface AuthorizationCodeLoginOptions {
  /** Authorization endpoint (`login.v1` `authz`). */
  authz: string;
  /** Token endpoint (`login.v1` `token`). */
  token: string;
  clientId: string;
  scopes: string[];
  credentials: DexCredentials;
  /** The loopback port of the redirect, `http://localhost:<port>/login` as the clients use; default 10000. */
  port?: number;
}

/** The token endpoint's answer. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  id_token?: string;
  refresh_token?: string;
}

/** Authorization code + PKCE, as `tofu login` does it, with {@link browserLogin} as the browser. */
export async function authorizationCodeLogin(options: AuthorizationCodeLoginOptions): Promise<TokenResponse> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const redirectUri = `http://localhost:${options.port ?? 10000}/login`;
  const authz = new URL(options.authz);
  authz.searchParams.set('client_id', options.clientId);
  authz.searchParams.set('redirect_uri', redirectUri);
  authz.searchParams.set('response_type', 'code');
  authz.searchParams.set('scope', options.scopes.join(' '));
  authz.searchParams.set('state', state);
  authz.searchParams.set('code_challenge', challenge);
  authz.searchParams.set('code_challenge_method', 'S256');
  const { callback } = await browserLogin(authz, options.credentials);
  if (callback.searchParams.get('state') !== state) throw new Error('the callback carries another state');
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`the callback carries no code: ${callback.search}`);
  const response = await fetch(options.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: options.clientId, code_verifier: verifier }).toString(),
  });
  const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Error(`the token endpoint answered ${response.status}: ${body.error ?? ''} ${body.error_description ?? ''}`);
  }
  return body;
}

/** Options of {@link dexAccessToken}: the defaults are the demo user and the scopes the CLIs ask for. */
export interface DexAccessTokenOptions {
  clientId: string;
  scopes?: string[];
  /** Default `alice@example.com`. */
  login?: string;
  /** Default the demo password. */
  password?: string;
  port?: number;
}

/** An access token for a user of a Dex (its endpoints, or `login.v1`'s `authz` and `token`), through {@link authorizationCodeLogin}. */
export async function dexAccessToken(endpoints: { authz: string; token: string }, options: DexAccessTokenOptions): Promise<string> {
  const tokens = await authorizationCodeLogin({
    authz: endpoints.authz,
    token: endpoints.token,
    clientId: options.clientId,
    scopes: options.scopes ?? ['openid', 'email', 'groups'],
    credentials: { login: options.login ?? 'alice@example.com', password: options.password ?? DEX_DEMO_PASSWORD },
    ...(options.port !== undefined && { port: options.port }),
  });
  return tokens.access_token;
}

interface Form {
  action: string | undefined;
  fields: Map<string, string>;
  html: string;
}

/** The forms of a page: action and the named inputs' values (HTML entities decoded). */
function formsOf(html: string): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = attributeOf(match[1]!, 'action');
    const fields = new Map<string, string>();
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = attributeOf(input[1]!, 'name');
      if (name !== undefined) fields.set(name, attributeOf(input[1]!, 'value') ?? '');
    }
    forms.push({ action: action === '' ? undefined : action, fields, html: match[0] });
  }
  return forms;
}

function attributeOf(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (match === null) return undefined;
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
