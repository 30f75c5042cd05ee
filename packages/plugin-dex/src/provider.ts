/**
 * The auth provider: a bearer JWT from the configured issuer becomes a principal with the
 * token's groups and claims; a bad one is denied; anything else is left to the next provider.
 */
import { isOpenDepotError, UnavailableError, type AuthDecision, type AuthProvider, type AuthRequest, type BrowserLogin, type Clock, type Logger, type LoginV1, type Principal } from '@opendepot/sdk';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ResolvedDexAuthConfig } from './config.ts';
import { describe } from './describe.ts';
import { internalUrlOf, type IssuerMetadata } from './issuer.ts';
import { VerifiedTokens } from './verified-tokens.ts';

/** The provider name principals carry. */
export const PROVIDER_NAME = 'dex';

/**
 * The one reason every refused token gets: which check failed goes to the log only, so a caller
 * learns nothing about the keys, the clock or the expected claims by trying tokens.
 */
export const DENY_REASON = 'invalid or expired token';

/** Longest bearer token looked at; longer ones are not ours (Dex tokens are a few KB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Options of {@link DexAuthProvider}. */
export interface DexAuthProviderOptions {
  config: ResolvedDexAuthConfig;
  metadata: IssuerMetadata;
  keys: JWTVerifyGetKey;
  /** Changes when the key set is replaced: verifications remembered before are then forgotten. Default: never changes. */
  keySetGeneration?: () => number;
  logger: Logger;
  clock: Clock;
  /** The secret of `config.browserClientId` (read from `browserClientSecretFile`), when it is a confidential client. */
  browserClientSecret?: string;
}

/** The scopes of the browser sign-in: the groups and e-mail GroupBindings look at. */
export const BROWSER_SCOPES = ['openid', 'profile', 'email', 'groups'] as const;

/** Authenticates Dex-issued bearer JWTs; advertises `login.v1` for `tofu login`. */
export class DexAuthProvider implements AuthProvider {
  readonly #config: ResolvedDexAuthConfig;
  readonly #metadata: IssuerMetadata;
  readonly #keys: JWTVerifyGetKey;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #audiences: string[];
  readonly #verified: VerifiedTokens;
  readonly #browserClientSecret: string | undefined;

  constructor(options: DexAuthProviderOptions) {
    this.#config = options.config;
    this.#metadata = options.metadata;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#clock = options.clock;
    // The web UI's client, when it is another one, issues tokens that must verify as well.
    this.#audiences = [...new Set([options.config.clientId, options.config.browserClientId, ...options.config.additionalAudiences])];
    this.#browserClientSecret = options.browserClientSecret;
    this.#verified = new VerifiedTokens({
      seconds: options.config.verifiedTokenCacheSeconds,
      maxEntries: options.config.verifiedTokenCacheMaxEntries,
      generation: options.keySetGeneration ?? (() => 0),
    });
  }

  /** The issuer tokens must come from. */
  get issuer(): string {
    return this.#metadata.issuer;
  }

  async authenticate(request: AuthRequest): Promise<AuthDecision> {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return { decision: 'abstain' };
    const known = this.#verified.get(token, this.#clock.now());
    if (known !== undefined) return { decision: 'allow', principal: known };
    // Only JWTs that name our issuer are ours. Opaque tokens, base64 kubeconfigs and JWTs of other
    // issuers (a Kubernetes ServiceAccount token names the cluster's issuer) go to the next
    // provider; an abstention never grants anything.
    const issuer = claimedIssuer(token);
    if (issuer !== this.#metadata.issuer) {
      if (issuer !== undefined) this.#logger.debug('bearer JWT of another issuer; abstaining', { iss: issuer.slice(0, 200) });
      return { decision: 'abstain' };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.#metadata.issuer,
        audience: this.#audiences,
        algorithms: this.#metadata.algorithms,
        clockTolerance: this.#config.clockSkewSeconds,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      // The key set could not be fetched (logged where it failed): not the caller's fault, and no
      // decision about them. The host answers 503.
      if (isOpenDepotError(err, 'unavailable')) throw err;
      if (!(err instanceof joseErrors.JOSEError)) {
        this.#logger.error('could not verify a bearer token', { error: describe(err), ...safeHeader(token) });
        throw new UnavailableError('bearer token verification failed', { cause: err });
      }
      this.#logger.info('bearer token refused', { check: (err as { code?: string }).code ?? 'unknown', detail: err.message, ...safeHeader(token) });
      return { decision: 'deny', reason: DENY_REASON };
    }
    // jose checks exp and nbf with the leeway, but not an iat from the future: a clock that far
    // off (or a token minted ahead) is refused as well.
    if (payload.iat! > this.#clock.now() / 1000 + this.#config.clockSkewSeconds) {
      this.#logger.info('bearer token refused', { check: 'iat_in_future', detail: `iat ${payload.iat} is ahead of this clock by more than the skew`, ...safeHeader(token) });
      return { decision: 'deny', reason: DENY_REASON };
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      this.#logger.warn('bearer token refused', { check: 'sub_claim', detail: 'sub is not a non-empty string', ...safeHeader(token) });
      return { decision: 'deny', reason: DENY_REASON };
    }
    const groups = groupsOf(payload[this.#config.groupsClaim]);
    if (groups === undefined) {
      this.#logger.warn('bearer token refused', { check: 'groups_claim', detail: `claim ${this.#config.groupsClaim} is neither a string nor an array of strings`, sub: payload.sub });
      return { decision: 'deny', reason: DENY_REASON };
    }
    const principal: Principal = { subject: payload.sub, provider: PROVIDER_NAME, groups, claims: { ...payload } };
    this.#verified.remember(token, principal, payload.exp!, this.#clock.now());
    return { decision: 'allow', principal };
  }

  loginV1(): LoginV1 {
    return {
      client: this.#config.clientId,
      grant_types: ['authz_code'],
      authz: this.#metadata.authorizationEndpoint,
      token: this.#metadata.tokenEndpoint,
      ports: [this.#config.loginPorts[0], this.#config.loginPorts[1]],
      scopes: ['openid', 'profile', 'email', 'groups', ...(this.#config.offlineAccess ? ['offline_access'] : [])],
    };
  }

  browserLogin(): BrowserLogin {
    return {
      issuer: this.#metadata.issuer,
      authorizationEndpoint: this.#metadata.authorizationEndpoint,
      // The code exchange is the server's own request: through internalIssuerUrl, like discovery and keys.
      tokenEndpoint: internalUrlOf(this.#config, this.#metadata.tokenEndpoint),
      clientId: this.#config.browserClientId,
      ...(this.#browserClientSecret !== undefined && { clientSecret: this.#browserClientSecret }),
      scopes: [...BROWSER_SCOPES],
    };
  }

  async close(): Promise<void> {
    // Nothing is held open: key set fetches are bounded by their own timeout.
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bearer[ \t]+([^\s]+)\s*$/i.exec(header);
  return match === null ? undefined : match[1];
}

/**
 * The `iss` of a token that parses as a compact JWS with JSON header and payload objects and a
 * string `iss`; undefined for anything else.
 */
export function claimedIssuer(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return undefined;
  try {
    decodeProtectedHeader(token);
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** The groups of a claim value: a string is one group, an absent claim none; undefined when malformed. */
export function groupsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((g) => typeof g === 'string')) return [...value];
  return undefined;
}

/** The header fields worth logging about a refused token (never the token or its signature). */
function safeHeader(token: string): Record<string, unknown> {
  try {
    const { alg, kid, typ } = decodeProtectedHeader(token);
    return { alg: String(alg).slice(0, 20), kid: kid === undefined ? undefined : String(kid).slice(0, 100), typ };
  } catch {
    return {};
  }
}
