/**
 * Octokit clients for the GitHub source: anonymous, or authenticated with a token or GitHub App
 * credentials read from a Secret. Clients are cached per credential set, so an App's installation
 * token is reused until it expires, and a rotated Secret gets a fresh client.
 */
import { createHash } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { InputError, NotFoundError, isOpenDepotError, type Logger } from '@opendepot/sdk';
import type { GithubClientSettings } from '@opendepot/archive-kit';

// Octokit with retries (5xx) and throttling (concurrency, rate-limit detection).
const GithubOctokit = Octokit.plugin(retry, throttling);
/** A GitHub client of the source. */
export type GithubClient = Octokit;

/** Default name of the Secret with GitHub credentials (as in the CRD documentation). */
export const DEFAULT_GITHUB_SECRET = 'opendepot-github-application-secret';

/** The Secret keys the GitHub source reads. */
export const GITHUB_SECRET_KEYS = {
  token: 'token',
  appId: 'githubAppID',
  installationId: 'githubInstallID',
  privateKey: 'githubPrivateKey',
} as const;

/**
 * Reads one key of a Secret; resolves `undefined` when the key (or the Secret) is absent.
 * `namespace` is the namespace of the resource that references the Secret.
 */
export type SecretReader = (name: string, key: string, namespace?: string) => Promise<string | undefined>;

/** Reads one key of a Secret of the asking resource's namespace (the subject's `readSecret`). */
export type ScopedSecretReader = (name: string, key: string) => Promise<string | undefined>;

/** GitHub credentials: a token, or a GitHub App installation. */
export type GithubCredentials = { token: string } | { appId: string; privateKey: string; installationId: string };

/** Options shared by every client of one source. */
export interface GithubClientOptions {
  baseUrl: string;
  userAgent: string;
  retries: number;
  retryBaseMs: number;
  /** The fetch every request (and every redirect) goes through: the egress guard's. */
  fetch?: typeof fetch;
  logger?: Logger;
}

const MAX_CACHED_CLIENTS = 64;

/** Makes and caches clients. */
export class GithubClients {
  readonly #options: GithubClientOptions;
  readonly #cache = new Map<string, GithubClient>();

  constructor(options: GithubClientOptions) {
    this.#options = options;
  }

  /**
   * The client for a subject's `githubClientConfig` (anonymous unless `useAuthenticatedClient`);
   * `read` reads the Secrets of `namespace`, the Module's.
   */
  async forConfig(config: GithubClientSettings | undefined, read: ScopedSecretReader | undefined, namespace: string | undefined): Promise<GithubClient> {
    if (!config?.useAuthenticatedClient) return this.#cached('anonymous', undefined);
    const credentials = await this.#credentials(config.secretRef?.name ?? DEFAULT_GITHUB_SECRET, read, namespace);
    // The key is a hash, so the cache never holds credentials in clear as map keys.
    const key = createHash('sha256').update(JSON.stringify(credentials)).digest('hex');
    return this.#cached(key, credentials);
  }

  async #credentials(secret: string, read: ScopedSecretReader | undefined, namespace: string | undefined): Promise<GithubCredentials> {
    const shown = namespace ? `${namespace}/${secret}` : secret;
    if (!read) {
      throw new InputError('githubClientConfig.useAuthenticatedClient is true, but the operator was started without access to Secrets', {
        field: 'spec.githubClientConfig.useAuthenticatedClient',
      });
    }
    const get = async (key: string) => {
      try {
        const value = await read(secret, key);
        return value === undefined || value.trim() === '' ? undefined : value.trim();
      } catch (err) {
        if (isOpenDepotError(err, 'not_found')) return undefined;
        throw err;
      }
    };
    const [token, appId, installationId, privateKey] = await Promise.all([
      get(GITHUB_SECRET_KEYS.token),
      get(GITHUB_SECRET_KEYS.appId),
      get(GITHUB_SECRET_KEYS.installationId),
      get(GITHUB_SECRET_KEYS.privateKey),
    ]);
    if (token) return { token };
    if (appId && installationId && privateKey) return { appId, installationId, privateKey };
    throw new NotFoundError(`Secret ${shown} holds no GitHub credentials: it needs the key "token", or the keys "githubAppID", "githubInstallID" and "githubPrivateKey"`, {
      field: 'spec.githubClientConfig.secretRef',
      hint: 'create the Secret, or set githubClientConfig.secretRef.name to the Secret that holds them',
    });
  }

  #cached(key: string, credentials: GithubCredentials | undefined): GithubClient {
    const hit = this.#cache.get(key);
    if (hit) return hit;
    if (this.#cache.size >= MAX_CACHED_CLIENTS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    const client = this.#build(credentials);
    this.#cache.set(key, client);
    return client;
  }

  #build(credentials: GithubCredentials | undefined): GithubClient {
    const { baseUrl, userAgent, retries, retryBaseMs, logger, fetch } = this.#options;
    const auth =
      credentials === undefined
        ? {}
        : 'token' in credentials
          ? { auth: credentials.token }
          : { authStrategy: createAppAuth, auth: { appId: credentials.appId, privateKey: credentials.privateKey, installationId: credentials.installationId } };
    return new GithubOctokit({
      baseUrl,
      userAgent,
      ...auth,
      ...(fetch ? { request: { fetch } } : {}),
      // Octokit's own log lines name requests, never credentials.
      log: {
        debug: (message: string) => logger?.debug(message),
        info: (message: string) => logger?.debug(message),
        warn: (message: string) => logger?.warn(message),
        error: (message: string) => logger?.error(message),
      },
      // 429 is a rate limit: the operator's queue waits for it, not this client.
      retry: { retries, retryAfterBaseValue: retryBaseMs, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: {
        // Never sleep inside the source until a rate limit resets: fail, and let the queue requeue.
        onRateLimit: () => false,
        onSecondaryRateLimit: () => false,
      },
    });
  }
}
