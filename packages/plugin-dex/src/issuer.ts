/**
 * The issuer as this process sees it: OIDC discovery through openid-client (which checks that the
 * discovered `issuer` is exactly the configured one), and the issuer's cached key set.
 */
import { InputError, UnavailableError, type Logger } from '@opendepot/sdk';
import * as client from 'openid-client';
import type { ResolvedDexAuthConfig } from './config.ts';
import { describe } from './describe.ts';
import { IssuerKeySet } from './key-set.ts';

/** The JWS algorithms a token may use: asymmetric only, so a public key can never serve as an HMAC secret. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** What verification and `login.v1` need from discovery. */
export interface IssuerMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** The signing algorithms the issuer uses that this plugin accepts. */
  algorithms: string[];
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * A fetch that sends requests for URLs under `issuerUrl` to `internalIssuerUrl` instead, and
 * never follows redirects (both libraries ask for `redirect: manual`).
 */
export function issuerFetch(config: Pick<ResolvedDexAuthConfig, 'issuerUrl' | 'internalIssuerUrl'>, onFetch?: (url: string) => void): Fetch {
  return (url, init) => {
    const target = internalUrlOf(config, String(url));
    onFetch?.(target);
    return fetch(target, { ...init, redirect: 'manual' });
  };
}

/** `url` as this process reaches it: under `internalIssuerUrl` when it is under `issuerUrl` and that is set. */
export function internalUrlOf(config: Pick<ResolvedDexAuthConfig, 'issuerUrl' | 'internalIssuerUrl'>, url: string): string {
  if (config.internalIssuerUrl === undefined) return url;
  if (url === config.issuerUrl) return config.internalIssuerUrl;
  const publicBase = withSlash(config.issuerUrl);
  return url.startsWith(publicBase) ? withSlash(config.internalIssuerUrl) + url.slice(publicBase.length) : url;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Runs OIDC discovery, retrying while the issuer is unreachable or failing (it may start after
 * the registry) until `timeoutSeconds` pass. A document for another issuer is an input error
 * at once: retrying does not help.
 */
export async function discoverIssuer(config: ResolvedDexAuthConfig, options: { logger: Logger; signal: AbortSignal; configPath: string; fetch: Fetch }): Promise<IssuerMetadata> {
  const deadline = Date.now() + config.discoveryTimeoutSeconds * 1000;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const configuration = await client.discovery(new URL(config.issuerUrl), config.clientId, undefined, client.None(), {
        [client.customFetch]: options.fetch as client.CustomFetch,
        // The URL checks are ours (resolveConfig): http only for loopback or when allowed.
        execute: new URL(config.issuerUrl).protocol === 'http:' ? [client.allowInsecureRequests] : [],
        timeout: 10,
      });
      return metadataOf(configuration.serverMetadata(), config, options.configPath);
    } catch (err) {
      if (err instanceof InputError) throw err;
      const issuerMismatch = (err as { code?: string }).code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED';
      if (issuerMismatch) {
        throw new InputError(`${options.configPath}.issuerUrl is ${config.issuerUrl}, but the discovery document there names another issuer`, {
          field: `${options.configPath}.issuerUrl`,
          hint: "set issuerUrl to Dex's issuer setting exactly (scheme, host, port, path, no trailing slash unless Dex has one)",
          cause: err,
        });
      }
      options.signal.throwIfAborted();
      if (Date.now() + delay > deadline) {
        throw new UnavailableError(`OIDC discovery of ${config.issuerUrl} failed after ${attempt} attempts: ${describe(err)}`, {
          cause: err,
          hint:
            config.internalIssuerUrl === undefined
              ? 'check that Dex runs and this process reaches issuerUrl (or set internalIssuerUrl)'
              : 'check that Dex runs and this process reaches internalIssuerUrl',
        });
      }
      options.logger.warn('OIDC discovery failed; retrying', { issuer: config.issuerUrl, attempt, error: describe(err) });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

function metadataOf(metadata: client.ServerMetadata, config: ResolvedDexAuthConfig, configPath: string): IssuerMetadata {
  const missing = (['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const).filter((k) => typeof metadata[k] !== 'string');
  if (missing.length > 0) {
    throw new InputError(`the OIDC discovery document of ${config.issuerUrl} lacks ${missing.join(', ')}`, { field: `${configPath}.issuerUrl` });
  }
  const advertised = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
  const algorithms = advertised.filter((alg) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
  if (algorithms.length === 0) {
    throw new InputError(`${config.issuerUrl} signs tokens only with ${advertised.join(', ')}; this plugin accepts only asymmetric algorithms`, {
      field: `${configPath}.issuerUrl`,
    });
  }
  return {
    issuer: metadata.issuer,
    authorizationEndpoint: metadata.authorization_endpoint!,
    tokenEndpoint: metadata.token_endpoint!,
    jwksUri: metadata.jwks_uri!,
    algorithms,
  };
}

/** The issuer's key set, cached and refreshed on rotation (see {@link IssuerKeySet}). */
export function issuerKeySet(metadata: IssuerMetadata, config: ResolvedDexAuthConfig, fetchImpl: Fetch, logger: Logger): IssuerKeySet {
  return new IssuerKeySet({
    jwksUri: metadata.jwksUri,
    fetch: fetchImpl,
    logger,
    cooldownMs: config.jwksRefreshCooldownSeconds * 1000,
    maxAgeMs: config.jwksCacheSeconds * 1000,
  });
}
