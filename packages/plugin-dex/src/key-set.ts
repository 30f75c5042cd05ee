/**
 * The issuer's key set, cached: fetched on first use, again when older than `maxAgeMs`, and again
 * when a token names a `kid` the cached set does not hold (a rotation), at most once per
 * `cooldownMs` counted from the last attempt, whether it succeeded or not. Concurrent requests
 * share one fetch. When a refresh fails, the last good set stays in use, so Dex being down or
 * restarting does not stop tokens signed with known keys from verifying.
 */
import { UnavailableError, type Logger } from '@opendepot/sdk';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { describe } from './describe.ts';

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** Options of {@link IssuerKeySet}. */
export interface IssuerKeySetOptions {
  jwksUri: string;
  fetch: Fetch;
  logger: Logger;
  /** Least time between two fetches caused by unknown kids. */
  cooldownMs: number;
  /** Age after which the set is fetched again on the next request. */
  maxAgeMs: number;
  /** Timeout of one fetch. */
  timeoutMs?: number;
  /** Milliseconds now (for the cache's own timing). */
  now?: () => number;
}

/** Longest key set answer read: Dex's is a few KB. */
const MAX_BYTES = 1024 * 1024;

/** A cached, rotation-aware key set; {@link getKey} is what `jwtVerify` takes. */
export class IssuerKeySet {
  readonly #options: Required<IssuerKeySetOptions>;
  #local: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;
  /** How many fetches were attempted (for logs and tests). */
  fetches = 0;
  /** Bumped each time a fetched key set replaces the cached one (so verifications made with the old one can be forgotten). */
  generation = 0;

  constructor(options: IssuerKeySetOptions) {
    this.#options = { timeoutMs: 10_000, now: () => Date.now(), ...options };
  }

  /** The key resolver for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = this.#options.now();
    if (this.#local === undefined) {
      await this.#refresh('first use');
    } else if (now - this.#fetchedAt >= this.#options.maxAgeMs && now - this.#attemptedAt >= this.#options.cooldownMs) {
      await this.#refresh('cache expired').catch(() => undefined); // stale keys keep working
    }
    const seen = this.#local!;
    try {
      return await seen(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      // Another request's fetch is under way, or finished since the lookup: use its result.
      if (this.#pending !== undefined) await this.#pending;
      else if (this.#local === seen) {
        if (this.#options.now() - this.#attemptedAt < this.#options.cooldownMs) throw err;
        await this.#refresh(`unknown kid ${String(header.kid ?? '(none)').slice(0, 100)}`);
      }
      return this.#local!(header, token);
    }
  };

  /** Fetches the set (one fetch at a time; callers share it). Throws unavailable on failure. */
  #refresh(why: string): Promise<void> {
    this.#pending ??= this.#fetch(why).finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #fetch(why: string): Promise<void> {
    this.#attemptedAt = this.#options.now();
    this.fetches++;
    this.#options.logger.info('fetching the OIDC issuer key set', { jwks: this.#options.jwksUri, why });
    try {
      const response = await this.#options.fetch(this.#options.jwksUri, {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`the key set answered ${response.status}`);
      }
      const text = await response.text();
      if (text.length > MAX_BYTES) throw new Error(`the key set is larger than ${MAX_BYTES} bytes`);
      const local = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
      this.#local = local;
      this.generation++;
      this.#fetchedAt = this.#options.now();
    } catch (err) {
      const stale = this.#local !== undefined;
      this.#options.logger.error(stale ? 'could not refresh the OIDC issuer key set; keeping the last one' : 'could not fetch the OIDC issuer key set', {
        jwks: this.#options.jwksUri,
        error: describe(err),
      });
      throw new UnavailableError('the OIDC issuer key set is unavailable', { cause: err });
    }
  }
}
