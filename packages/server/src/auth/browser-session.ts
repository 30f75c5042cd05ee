/**
 * The web UI's cookies, HMAC-signed (not encrypted: they hold nothing the signed-in browser may not
 * know, and are HttpOnly):
 * - the session, `__Host-opendepot-session`: the principal of a browser sign-in (subject, groups,
 *   the provider's name, the claims GroupBindings read) and its expiry. No token is kept: the
 *   registry never calls anything on the user's behalf, so the cookie is all a session is.
 * - the sign-in in progress, `__Host-opendepot-login`: state, nonce and PKCE verifier between
 *   `/ui/login` and `/ui/callback`, for ten minutes.
 *
 * The key is derived from `auth.downloadUrlSecretFile`'s secret when one is configured (shared by
 * every replica, so a session works on all of them), otherwise from a random key of this process
 * (sessions then end with the process and work on this replica only).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '@opendepot/sdk';

export const SESSION_COOKIE = '__Host-opendepot-session';
export const LOGIN_COOKIE = '__Host-opendepot-login';

/** What a session cookie holds. */
export interface BrowserSession {
  principal: Principal;
  /** The configured name of the provider that signed the user in (it decides grants as for its tokens). */
  by: string;
  /** Unix seconds. */
  expires: number;
}

/** What the sign-in cookie holds between `/ui/login` and `/ui/callback`. */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go afterwards: a path under `/ui/`. */
  next: string;
  /** The `redirect_uri` sent to the authorization endpoint (the code exchange repeats it). */
  redirectUri: string;
  /** The configured name of the provider the sign-in is with. */
  by: string;
  expires: number;
}

// Claims that describe the token rather than the user: GroupBindings have no use for them.
const TOKEN_CLAIMS = new Set(['exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 'jti', 'auth_time', 'sid']);

/** Browsers keep cookies up to 4096 bytes, name and attributes included. */
export const MAX_COOKIE_VALUE_BYTES = 3800;

/** Signs and checks the two cookies. */
export class BrowserSessions {
  readonly #key: Buffer;
  readonly #now: () => number;
  /** The longest a session lasts, whatever the ID token's `exp`. */
  readonly maxSeconds: number;

  constructor(options: { secret?: Buffer; maxSeconds?: number; now?: () => number }) {
    // A key of its own: a session MAC can never pass for a download signature, or the reverse.
    this.#key = createHmac('sha256', options.secret ?? randomBytes(32))
      .update('opendepot browser session key')
      .digest();
    this.maxSeconds = options.maxSeconds ?? 8 * 3600;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds since the epoch, now. */
  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** The session cookie's value for `principal`, ending at `tokenExpiry` (seconds) or {@link maxSeconds} from now, whichever is first. */
  sealSession(principal: Principal, by: string, tokenExpiry: number): { value: string; expires: number } {
    const expires = Math.min(tokenExpiry, this.nowSeconds() + this.maxSeconds);
    const claims = Object.fromEntries(Object.entries(principal.claims).filter(([k]) => !TOKEN_CLAIMS.has(k)));
    const value = this.#seal('session', { sub: principal.subject, prv: principal.provider, grp: principal.groups, clm: claims, by, exp: expires });
    return { value, expires };
  }

  /** The session of a cookie value; undefined when it is forged, tampered with, malformed or expired. */
  openSession(value: string | undefined): BrowserSession | undefined {
    const body = this.#open('session', value);
    if (body === undefined) return undefined;
    const { sub, prv, grp, clm, by, exp } = body;
    if (typeof sub !== 'string' || typeof prv !== 'string' || typeof by !== 'string' || typeof exp !== 'number') return undefined;
    if (!Array.isArray(grp) || !grp.every((g) => typeof g === 'string')) return undefined;
    if (clm === null || typeof clm !== 'object' || Array.isArray(clm)) return undefined;
    return { principal: { subject: sub, provider: prv, groups: grp, claims: clm as Record<string, unknown> }, by, expires: exp };
  }

  sealLogin(login: Omit<PendingLogin, 'expires'>, ttlSeconds = 600): { value: string; expires: number } {
    const expires = this.nowSeconds() + ttlSeconds;
    return { value: this.#seal('login', { ...login, exp: expires }), expires };
  }

  openLogin(value: string | undefined): PendingLogin | undefined {
    const body = this.#open('login', value);
    if (body === undefined) return undefined;
    const fields = ['state', 'nonce', 'verifier', 'next', 'redirectUri', 'by'] as const;
    if (!fields.every((f) => typeof body[f] === 'string') || typeof body.exp !== 'number') return undefined;
    const login = Object.fromEntries(fields.map((f) => [f, body[f]])) as Omit<PendingLogin, 'expires'>;
    return { ...login, expires: body.exp };
  }

  #seal(kind: string, body: Record<string, unknown>): string {
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${this.#mac(kind, payload)}`;
  }

  #open(kind: string, value: string | undefined): Record<string, unknown> | undefined {
    if (value === undefined || value.length > MAX_COOKIE_VALUE_BYTES) return undefined;
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (match === null) return undefined;
    const [, payload, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.#mac(kind, payload));
    // Constant time: a forged cookie learns nothing from how long the refusal took.
    if (!timingSafeEqual(Buffer.from(mac), expected)) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
    const record = body as Record<string, unknown>;
    if (typeof record.exp !== 'number' || record.exp <= this.nowSeconds()) return undefined;
    return record;
  }

  #mac(kind: string, payload: string): string {
    return createHmac('sha256', this.#key).update(`opendepot-${kind}\n${payload}`).digest('base64url');
  }
}

/** The value of cookie `name` in a `Cookie` header; undefined when absent or given twice (a planted duplicate is not guessed between). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

/**
 * A `Set-Cookie` value with the `__Host-` rules (Secure, Path=/, no Domain) and HttpOnly.
 * `sameSite`: Strict for the session (never sent from another site), Lax for the sign-in cookie
 * (it must come back with the top-level redirect from the identity provider).
 */
export function setCookie(name: string, value: string, options: { maxAgeSeconds: number; sameSite: 'Strict' | 'Lax' }): string {
  return `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}; HttpOnly; Secure; SameSite=${options.sameSite}`;
}

/** A `Set-Cookie` value that deletes `name`. */
export function clearCookie(name: string, sameSite: 'Strict' | 'Lax'): string {
  return setCookie(name, '', { maxAgeSeconds: 0, sameSite });
}
