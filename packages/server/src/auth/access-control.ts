/**
 * Access control of the registry's protected routes. The auth providers are asked in order; the
 * first that does not abstain decides who is asking. Each route then checks the grant for the
 * exact Module or Provider it answers about: the authenticating provider's own `authorize` when it
 * has one (Kubernetes RBAC), otherwise the GroupBinding check (`grants`), otherwise nothing is
 * granted. Download routes also accept a signed URL instead (see `download-urls.ts`).
 *
 * Browser sessions (`browser-session.ts`): a request without an `Authorization` header to the
 * web UI (`/ui/…`) or its JSON API (`/opendepot/api/…`) is authenticated by its session cookie
 * when it carries a valid one, as the provider that signed the user in (GroupBindings then decide
 * as for that provider's tokens). Never on the registry protocols (tofu sends no cookies, and a
 * cookie must not authorize downloads), and never on a request the browser marks `cross-site`.
 *
 * Answers: no credential, or one no provider accepts, 401 with `WWW-Authenticate: Bearer`; a known
 * caller without the grant, 403 naming the resource. One audit line per decision, never the token.
 */
import {
  ForbiddenError,
  UnauthenticatedError,
  UnavailableError,
  type AuthProvider,
  type AuthRequest,
  type BrowserLogin,
  type Logger,
  type LoginV1,
  type Principal,
  type ProtectedResource,
} from '@opendepot/sdk';
import type { Context, Middleware } from 'koa';
import type { ServerMetrics } from '../observability/metrics.ts';
import { type BrowserSessions, cookieValue, SESSION_COOKIE } from './browser-session.ts';
import { type DownloadUrlSigner, SIGNATURE_PARAM, EXPIRY_PARAM, type SignatureCheck } from './download-urls.ts';

/** An auth provider and the name it is configured (and audited) under. */
export interface NamedAuthProvider {
  name: string;
  provider: AuthProvider;
}

/** The GroupBinding check: whether a principal without a provider-side decision may read `resource`. */
export type Grants = (principal: Principal, resource: ProtectedResource) => boolean;

/** Options of {@link AccessControl}. */
export interface AccessControlOptions {
  providers: readonly NamedAuthProvider[];
  grants?: Grants;
  /** Present: download URLs the server writes are signed, and download routes accept them. */
  downloadUrls?: DownloadUrlSigner;
  /** Present: browser session cookies are accepted on the web UI's paths. */
  sessions?: BrowserSessions;
  log: Logger;
  metrics: ServerMetrics;
}

/** What the authentication step found, kept on `ctx.state.auth`. */
export interface AuthState {
  principal?: Principal;
  /** The provider that authenticated {@link principal}. */
  by?: NamedAuthProvider;
  /** Why nobody was authenticated (for the audit line and the 401). */
  failure?: string;
  /** The provider that refused the credential, if one did. */
  refusedBy?: string;
  /** True when {@link principal} comes from a browser session cookie, not a credential of the request. */
  session?: boolean;
}

/** Where a browser session cookie counts: the web UI and its JSON API, nothing of the registry protocols. */
export function acceptsSessionCookie(path: string): boolean {
  return path === '/ui' || path.startsWith('/ui/') || path.startsWith('/opendepot/api/');
}

/** The principal of anonymous access. */
export const ANONYMOUS_SUBJECT = 'system:anonymous';

const NO_CREDENTIAL = 'no credential';

/** Authenticates requests, checks grants and signs download URLs. */
export class AccessControl {
  readonly #providers: readonly NamedAuthProvider[];
  readonly #grants: Grants | undefined;
  readonly #log: Logger;
  readonly #metrics: ServerMetrics;
  /** Signs download URLs; undefined when anyone may download (anonymous access). */
  readonly downloadUrls: DownloadUrlSigner | undefined;
  /** Signs and checks browser session cookies; undefined when no provider offers a browser sign-in. */
  readonly sessions: BrowserSessions | undefined;

  constructor(options: AccessControlOptions) {
    this.#providers = options.providers;
    this.#grants = options.grants;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.downloadUrls = options.downloadUrls;
    this.sessions = options.sessions;
  }

  /** The browser sign-in of the first provider that offers one, with the provider's configured name. */
  browserLogin(): { by: NamedAuthProvider; login: BrowserLogin } | undefined {
    for (const named of this.#providers) {
      const login = named.provider.browserLogin?.();
      if (login !== undefined) return { by: named, login };
    }
    return undefined;
  }

  /** The configured provider named `name`. */
  provider(name: string): NamedAuthProvider | undefined {
    return this.#providers.find((p) => p.name === name);
  }

  /**
   * Who is asking, without refusing anyone: the state {@link middleware} would find (computed once
   * per request and kept on `ctx.state.auth`). For routes mounted before the middleware that
   * answer signed-out callers too (the web UI's pages and `whoami`).
   */
  async identify(ctx: Context): Promise<AuthState> {
    const holder = ctx.state as { auth?: AuthState };
    holder.auth ??= await this.#authenticate(ctx);
    return holder.auth;
  }

  /** The `login.v1` entry of the first provider that offers one. */
  loginV1(): LoginV1 | undefined {
    for (const { provider } of this.#providers) {
      const login = provider.loginV1?.();
      if (login !== undefined) return login;
    }
    return undefined;
  }

  /**
   * Authenticates every request it sees. A request nobody authenticated is refused at once (401),
   * before any lookup, so a caller without access cannot probe which names exist, unless it
   * carries a download signature, which the download route checks against its artifact.
   */
  middleware(): Middleware {
    return async (ctx, next) => {
      const state = await this.identify(ctx);
      if (state.principal === undefined && !(this.downloadUrls !== undefined && hasSignature(ctx))) {
        this.#audit(ctx, state, undefined, 'deny', state.failure ?? NO_CREDENTIAL);
        throw unauthenticated(state);
      }
      await next();
    };
  }

  /**
   * The items of a list the (identified) caller may read, each distinct resource decided once,
   * with one audit line for the whole list (a browse page decides thousands).
   */
  async visible<T>(ctx: Context, items: readonly T[], resourceOf: (item: T) => ProtectedResource): Promise<T[]> {
    const state = stateOf(ctx);
    if (state.principal === undefined) return [];
    const decided = new Map<string, boolean>();
    const shown: T[] = [];
    for (const item of items) {
      const resource = resourceOf(item);
      const key = `${resource.kind}/${resource.namespace}/${resource.name}`;
      let ok = decided.get(key);
      if (ok === undefined) decided.set(key, (ok = (await this.#decide(state, resource)).granted));
      if (ok) shown.push(item);
    }
    this.#audit(ctx, state, undefined, 'allow', `listed ${shown.length} of ${items.length} entries`);
    return shown;
  }

  /** Whether the (identified) caller may read `resource`, audited; never throws for a refusal. */
  async mayRead(ctx: Context, resource: ProtectedResource): Promise<boolean> {
    const state = stateOf(ctx);
    if (state.principal === undefined) return false;
    const { granted, reason } = await this.#decide(state, resource);
    this.#audit(ctx, state, resource, granted ? 'allow' : 'deny', reason);
    return granted;
  }

  /** Refuses the request (401/403) unless its caller may read `resource`. */
  async require(ctx: Context, resource: ProtectedResource): Promise<void> {
    const state = stateOf(ctx);
    if (state.principal === undefined) {
      this.#audit(ctx, state, resource, 'deny', state.failure ?? NO_CREDENTIAL);
      throw unauthenticated(state);
    }
    const { granted, reason } = await this.#decide(state, resource);
    this.#audit(ctx, state, resource, granted ? 'allow' : 'deny', reason);
    if (!granted) throw forbidden(resource);
  }

  /**
   * For download routes: a valid signature for `artifact` lets the request through; otherwise the
   * caller's grant decides as in {@link require}. Without a token, a missing signature is a 401,
   * an expired one or one for another artifact a 403.
   */
  async requireDownload(ctx: Context, artifact: string, resource: () => ProtectedResource): Promise<void> {
    const state = stateOf(ctx);
    // Checked before any lookup: a request with a made-up signature learns nothing about names.
    const check: SignatureCheck = this.downloadUrls?.verify(artifact, ctx.query) ?? 'missing';
    if (check === 'valid') {
      this.#audit(ctx, state, undefined, 'allow', `signed download URL for ${artifact}`);
      return;
    }
    if (state.principal !== undefined) return this.require(ctx, resource());
    const reason = check === 'expired' ? 'download URL expired' : check === 'invalid' ? 'download URL signature invalid for this artifact' : (state.failure ?? NO_CREDENTIAL);
    this.#audit(ctx, state, undefined, 'deny', `${reason} (${artifact})`);
    if (check === 'missing') throw unauthenticated(state);
    throw new ForbiddenError(check === 'expired' ? 'this download URL has expired: ask the registry for a new one' : 'this download URL is not valid for this artifact');
  }

  /**
   * Filters a list down to what the caller may read (the network mirror merges Providers of
   * several namespaces). Each distinct resource is decided once.
   */
  async filterGranted<T>(ctx: Context, items: readonly T[], resourceOf: (item: T) => ProtectedResource): Promise<{ granted: T[]; refused: ProtectedResource[] }> {
    const state = stateOf(ctx);
    if (state.principal === undefined) {
      this.#audit(ctx, state, undefined, 'deny', state.failure ?? NO_CREDENTIAL);
      throw unauthenticated(state);
    }
    const decided = new Map<string, boolean>();
    const refused: ProtectedResource[] = [];
    const granted: T[] = [];
    for (const item of items) {
      const resource = resourceOf(item);
      const key = `${resource.kind}/${resource.namespace}/${resource.name}`;
      let ok = decided.get(key);
      if (ok === undefined) {
        const { granted: allowed, reason } = await this.#decide(state, resource);
        this.#audit(ctx, state, resource, allowed ? 'allow' : 'deny', reason);
        decided.set(key, (ok = allowed));
        if (!allowed) refused.push(resource);
      }
      if (ok) granted.push(item);
    }
    return { granted, refused };
  }

  /** Appends a signature for `artifact` to `url` when download URLs are signed. */
  signUrl(url: string, artifact: string): string {
    return this.downloadUrls === undefined ? url : this.downloadUrls.sign(url, artifact);
  }

  async #authenticate(ctx: Context): Promise<AuthState> {
    const request: AuthRequest = { method: ctx.method, path: ctx.path, headers: ctx.headers as AuthRequest['headers'] };
    const hasCredential = ctx.get('Authorization') !== '';
    if (!hasCredential) {
      const session = this.#session(ctx);
      if (session !== undefined) return session;
    }
    for (const named of this.#providers) {
      let decision;
      try {
        decision = await named.provider.authenticate(request);
      } catch (err) {
        this.#log.error('an auth provider failed; refusing the request', { provider: named.name, err: err instanceof Error ? err.message : String(err) });
        throw new UnavailableError('the registry cannot check credentials right now', { retryAfterMs: 5_000 });
      }
      if (decision.decision === 'abstain') continue;
      if (decision.decision === 'deny') return { failure: decision.reason, refusedBy: named.name };
      return { principal: decision.principal, by: named };
    }
    return { failure: hasCredential ? 'no auth provider accepted the credential' : NO_CREDENTIAL };
  }

  /** The principal of the request's session cookie, where one counts and is valid. */
  #session(ctx: Context): AuthState | undefined {
    if (this.sessions === undefined || !acceptsSessionCookie(ctx.path)) return undefined;
    // SameSite=Strict already keeps the cookie off cross-site requests; this holds with browsers that do not.
    if (ctx.get('Sec-Fetch-Site').toLowerCase() === 'cross-site') return undefined;
    const session = this.sessions.openSession(cookieValue(ctx.get('Cookie') || undefined, SESSION_COOKIE));
    if (session === undefined) return undefined;
    // A provider removed from the configuration since the sign-in no longer vouches for anyone.
    const by = this.provider(session.by);
    if (by === undefined) return undefined;
    return { principal: session.principal, by, session: true };
  }

  async #decide(state: AuthState, resource: ProtectedResource): Promise<{ granted: boolean; reason: string }> {
    const { principal, by } = state;
    if (principal === undefined || by === undefined) return { granted: false, reason: NO_CREDENTIAL };
    if (by.provider.authorize !== undefined) {
      let granted: boolean;
      try {
        granted = await by.provider.authorize(principal, resource);
      } catch (err) {
        this.#log.error('an auth provider failed to authorize; refusing the request', { provider: by.name, err: err instanceof Error ? err.message : String(err) });
        throw new UnavailableError('the registry cannot check access right now', { retryAfterMs: 5_000 });
      }
      return { granted, reason: granted ? `granted by ${by.name}` : `not granted by ${by.name}` };
    }
    if (this.#grants === undefined) return { granted: false, reason: 'no GroupBinding check configured' };
    let granted: boolean;
    try {
      granted = this.#grants(principal, resource) === true;
    } catch (err) {
      // A binding that cannot be evaluated grants nothing.
      this.#log.error('the GroupBinding check failed; denying', { err: err instanceof Error ? err.message : String(err), resource: `${resource.kind} ${resource.namespace}/${resource.name}` });
      return { granted: false, reason: 'the GroupBinding check failed' };
    }
    return { granted, reason: granted ? 'granted by a GroupBinding' : 'no GroupBinding grants it' };
  }

  #audit(ctx: Context, state: AuthState, resource: ProtectedResource | undefined, decision: 'allow' | 'deny', reason: string): void {
    const provider = state.by?.name ?? state.refusedBy ?? 'none';
    this.#metrics.authDecisions.inc({ provider, decision });
    const fields = {
      subject: state.principal?.subject ?? 'unauthenticated',
      provider,
      method: ctx.method,
      path: ctx.path,
      ...(state.session === true && { via: 'browser session' }),
      resource: resource === undefined ? undefined : `${resource.kind} ${resource.namespace}/${resource.name}`,
      decision,
      reason,
    };
    // Anonymous access decides every request the same way: its lines are debug, not info.
    if (state.principal?.subject === ANONYMOUS_SUBJECT) this.#log.debug('access decision', fields);
    else this.#log.info('access decision', fields);
  }
}

function hasSignature(ctx: Context): boolean {
  return ctx.query[SIGNATURE_PARAM] !== undefined || ctx.query[EXPIRY_PARAM] !== undefined;
}

function stateOf(ctx: Context): AuthState {
  return (ctx.state as { auth?: AuthState }).auth ?? { failure: NO_CREDENTIAL };
}

function unauthenticated(state: AuthState): UnauthenticatedError {
  return new UnauthenticatedError(
    state.failure === undefined || state.failure === NO_CREDENTIAL ? 'authentication required: send a registry token (tofu login, or TF_TOKEN_<host>)' : 'the credential was not accepted',
  );
}

function forbidden(resource: ProtectedResource): ForbiddenError {
  return new ForbiddenError(`access to ${resource.kind} ${resource.namespace}/${resource.name} is not granted: a grant for it is missing`);
}
