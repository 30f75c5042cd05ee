/**
 * Kubernetes credentials. `kubernetes`: a bearer token (a ServiceAccount token) is checked with a
 * TokenReview for the configured audiences. `kubeconfig`: a base64 kubeconfig as the bearer token
 * (local clusters only); the credentials of its current user are checked against the registry's
 * own API server with a SelfSubjectReview, and its `server`, CA, exec plugins and file paths are
 * never used. For both, Kubernetes RBAC decides access: a SubjectAccessReview for `get` on the
 * Module or Provider by name in its namespace, group `opendepot.defdev.io`. Answers are cached
 * (bounded size and TTL) by a hash of the token, never the token itself.
 */
import { createHash } from 'node:crypto';
import { createKubeClient, GROUP, type KubeClient, type KubeConnection } from '@opendepot/core';
import type { AuthDecision, AuthProvider, AuthRequest, Logger, Principal, ProtectedResource } from '@opendepot/sdk';
import { parse } from 'yaml';
import { TtlCache, type CacheOutcome } from './ttl-cache.ts';

/**
 * At most `limit` calls at once; the rest wait their turn. Bounds what a burst of distinct (for
 * example made-up) tokens can ask of the API server.
 */
export class Gate {
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  get active(): number {
    return this.#active;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/** API calls (reviews) one provider makes at once, at most. */
export const MAX_REVIEWS_IN_FLIGHT = 16;

/** The caches whose hit rate is reported. */
export type AuthCacheName = 'tokenreview' | 'subjectaccessreview' | 'kubeconfig';

/** Options shared by both providers. */
export interface KubernetesAuthOptions {
  /** The registry's own API server connection (its ServiceAccount needs create on tokenreviews and subjectaccessreviews). */
  client: KubeClient;
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  /** Told whether each cache lookup was a hit, for the hit-rate metric. */
  onCache?: (cache: AuthCacheName, outcome: CacheOutcome) => void;
  log?: Logger;
}

/** The `get` a SubjectAccessReview asks about, cached per user and resource. */
class RbacAuthorizer {
  readonly #client: KubeClient;
  readonly #cache: TtlCache<boolean>;
  readonly #onCache: KubernetesAuthOptions['onCache'];
  readonly #gate: Gate;

  constructor(options: KubernetesAuthOptions, gate: Gate) {
    this.#gate = gate;
    this.#client = options.client;
    this.#cache = new TtlCache({ ttlSeconds: options.cacheTtlSeconds, maxEntries: options.cacheMaxEntries });
    this.#onCache = options.onCache;
  }

  authorize(principal: Principal, resource: ProtectedResource): Promise<boolean> {
    const uid = typeof principal.claims.uid === 'string' ? principal.claims.uid : undefined;
    const extra = isStringListRecord(principal.claims.extra) ? principal.claims.extra : undefined;
    const key = JSON.stringify([principal.subject, uid ?? '', [...principal.groups].sort(), extra ?? {}, resource.kind, resource.namespace, resource.name]);
    return this.#cache.through(
      key,
      async () => {
        const review = await this.#gate.run(() =>
          this.#client.request<{ status?: { allowed?: boolean } }>({
            method: 'POST',
            path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user: principal.subject,
                groups: principal.groups,
                ...(uid !== undefined && { uid }),
                ...(extra !== undefined && { extra }),
                resourceAttributes: {
                  group: GROUP,
                  resource: resource.kind === 'Module' ? 'modules' : 'providers',
                  verb: 'get',
                  namespace: resource.namespace,
                  name: resource.name,
                },
              },
            },
          }),
        );
        return review.status?.allowed === true;
      },
      (outcome) => this.#onCache?.('subjectaccessreview', outcome),
    );
  }
}

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

function principalOf(provider: string, user: UserInfo): Principal {
  return {
    subject: user.username ?? '',
    provider,
    groups: user.groups ?? [],
    claims: { ...(user.uid !== undefined && { uid: user.uid }), ...(user.extra !== undefined && { extra: user.extra }) },
  };
}

/** The bearer token of a request, if it has one. */
export function bearerToken(request: AuthRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Whether a token is a base64 kubeconfig rather than a bearer token. */
export function looksLikeKubeconfig(token: string): boolean {
  if (token.includes('.') || token.length < 40) return false;
  const text = Buffer.from(token, 'base64').toString('utf8');
  return /(^|\n)\s*(clusters|users|contexts)\s*:/.test(text) || /"(clusters|users|contexts)"\s*:/.test(text);
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Options of {@link kubernetesProvider}. */
export interface KubernetesProviderOptions extends KubernetesAuthOptions {
  /** Audiences the TokenReview asks for; empty means the API server's own. */
  audiences: readonly string[];
  /** Refuse base64 kubeconfigs with a message that says how to enable them (when `kubeconfig` is off). */
  refuseKubeconfigs?: boolean;
}

/**
 * Kubernetes bearer tokens. A token the API server does not recognise makes it abstain, so
 * another provider (OIDC) may accept it; no token, the same.
 */
export function kubernetesProvider(options: KubernetesProviderOptions): AuthProvider {
  const identities = new TtlCache<Principal | null>({ ttlSeconds: options.cacheTtlSeconds, maxEntries: options.cacheMaxEntries });
  const gate = new Gate(MAX_REVIEWS_IN_FLIGHT);
  const rbac = new RbacAuthorizer(options, gate);
  return {
    async authenticate(request): Promise<AuthDecision> {
      const token = bearerToken(request);
      if (token === undefined) return { decision: 'abstain' };
      if (looksLikeKubeconfig(token)) {
        return options.refuseKubeconfigs ? { decision: 'deny', reason: 'kubeconfig tokens are not enabled (auth.kubeconfig.enabled)' } : { decision: 'abstain' };
      }
      const principal = await identities.through(
        hashOf(token),
        async () => {
          const review = await gate.run(() =>
            options.client.request<{ status?: { authenticated?: boolean; user?: UserInfo } }>({
              method: 'POST',
              path: '/apis/authentication.k8s.io/v1/tokenreviews',
              body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(options.audiences.length > 0 && { audiences: [...options.audiences] }) } },
            }),
          );
          const user = review.status?.user;
          return review.status?.authenticated === true && user?.username ? principalOf('kubernetes', user) : null;
        },
        (outcome) => options.onCache?.('tokenreview', outcome),
      );
      return principal === null ? { decision: 'abstain' } : { decision: 'allow', principal };
    },
    authorize: (principal, resource) => rbac.authorize(principal, resource),
  };
}

/** The only user fields a kubeconfig token may use: inline credentials, nothing that runs or reads files. */
interface InlineUser {
  token?: string;
  'client-certificate-data'?: string;
  'client-key-data'?: string;
}

type Parsed = { user: InlineUser } | { problem: string };

function parseKubeconfig(token: string): Parsed {
  let doc: unknown;
  try {
    doc = parse(Buffer.from(token, 'base64').toString('utf8'), { maxAliasCount: 10 });
  } catch {
    return { problem: 'the token is not a base64 kubeconfig' };
  }
  if (typeof doc !== 'object' || doc === null) return { problem: 'the token is not a base64 kubeconfig' };
  const config = doc as { 'current-context'?: unknown; contexts?: unknown; users?: unknown };
  const contexts = Array.isArray(config.contexts) ? (config.contexts as Array<{ name?: unknown; context?: { user?: unknown } }>) : [];
  const users = Array.isArray(config.users) ? (config.users as Array<{ name?: unknown; user?: Record<string, unknown> }>) : [];
  const context = contexts.find((c) => c?.name === config['current-context']) ?? (contexts.length === 1 ? contexts[0] : undefined);
  const userName = context?.context?.user;
  const entry = users.find((u) => u?.name === userName) ?? (users.length === 1 && context === undefined ? users[0] : undefined);
  const user = entry?.user;
  if (user === undefined || typeof user !== 'object') return { problem: 'the kubeconfig names no user for its current context' };
  const unsupported = Object.keys(user).filter((k) => !['token', 'client-certificate-data', 'client-key-data'].includes(k));
  if (unsupported.length > 0) return { problem: `the kubeconfig user may only carry token or client-certificate-data/client-key-data (not ${unsupported.join(', ')})` };
  const { token: bearer, 'client-certificate-data': cert, 'client-key-data': key } = user as InlineUser;
  if (typeof bearer === 'string' && bearer !== '') return { user: { token: bearer } };
  if (typeof cert === 'string' && typeof key === 'string') return { user: { 'client-certificate-data': cert, 'client-key-data': key } };
  return { problem: 'the kubeconfig user has no token and no client certificate' };
}

/** The registry's own cluster (server and how its certificate is verified), reached with only the caller's inline credentials. */
function callerConnection(own: KubeConnection, user: InlineUser): KubeConnection {
  const { ca, insecureSkipVerify, serverName } = own.tls;
  const tls = { ca, insecureSkipVerify, serverName };
  if (user.token !== undefined) return { server: own.server, namespace: 'default', tls, credentials: { kind: 'token', token: user.token } };
  const cert = Buffer.from(user['client-certificate-data'] ?? '', 'base64');
  const key = Buffer.from(user['client-key-data'] ?? '', 'base64');
  return { server: own.server, namespace: 'default', tls: { ...tls, cert, key }, credentials: { kind: 'none' } };
}

/**
 * Base64 kubeconfigs as the bearer token, for local clusters: it authenticates as the user its
 * credentials identify on the registry's own API server (SelfSubjectReview), then RBAC decides.
 */
export function kubeconfigProvider(options: KubernetesAuthOptions): AuthProvider {
  const identities = new TtlCache<AuthDecision>({ ttlSeconds: options.cacheTtlSeconds, maxEntries: options.cacheMaxEntries });
  const gate = new Gate(MAX_REVIEWS_IN_FLIGHT);
  const rbac = new RbacAuthorizer(options, gate);
  const own = options.client.connection;
  return {
    async authenticate(request): Promise<AuthDecision> {
      const token = bearerToken(request);
      if (token === undefined || !looksLikeKubeconfig(token)) return { decision: 'abstain' };
      return identities.through(
        hashOf(token),
        async () => {
          const parsed = parseKubeconfig(token);
          if ('problem' in parsed) return { decision: 'deny', reason: parsed.problem };
          const client = createKubeClient({ connection: callerConnection(own, parsed.user), userAgent: 'opendepot-server/kubeconfig-auth', requestTimeoutMs: 10_000 });
          try {
            const review = await gate.run(() =>
              client.request<{ status?: { userInfo?: UserInfo } }>({
                method: 'POST',
                path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
                body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
              }),
            );
            const user = review.status?.userInfo;
            if (!user?.username || user.username === 'system:anonymous') return { decision: 'deny', reason: 'the kubeconfig credentials are not accepted by the cluster' };
            return { decision: 'allow', principal: principalOf('kubeconfig', user) };
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code === 'unauthenticated' || code === 'forbidden') return { decision: 'deny', reason: 'the kubeconfig credentials are not accepted by the cluster' };
            throw err;
          } finally {
            await client.close();
          }
        },
        (outcome) => options.onCache?.('kubeconfig', outcome),
      );
    },
    authorize: (principal, resource) => rbac.authorize(principal, resource),
  };
}

function isStringListRecord(value: unknown): value is Record<string, string[]> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
}
