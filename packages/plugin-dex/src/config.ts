/** The plugin's configuration and its JSON Schema. */
import { InputError, type JsonSchema } from '@opendepot/sdk';

/** Configuration of the Dex (OIDC) auth provider. */
export interface DexAuthConfig {
  /**
   * The issuer URL exactly as it appears in the tokens' `iss` claim and in Dex's `issuer` setting,
   * e.g. `https://dex.example.com/dex`. `tofu login` sends users' browsers to the authorization
   * endpoint under it, so it must be reachable from their machines.
   */
  issuerUrl: string;
  /** The Dex static client `tofu login` uses; tokens must carry it in `aud`. */
  clientId: string;
  /**
   * Where this process reaches the issuer, when that differs from `issuerUrl`, e.g.
   * `http://dex.opendepot-system.svc:5556/dex`. Discovery and key requests for URLs under
   * `issuerUrl` are sent there instead; the discovered `issuer` and the tokens' `iss` must still
   * be `issuerUrl`.
   */
  internalIssuerUrl?: string;
  /** Further audiences accepted besides `clientId`, e.g. a CI client's id. */
  additionalAudiences?: string[];
  /**
   * The Dex static client the registry's web UI signs browsers in as (authorization code + PKCE);
   * its redirect URIs must list `<server.externalUrl>/ui/callback`. Its tokens are accepted like
   * `clientId`'s. Default: `clientId`.
   */
  browserClientId?: string;
  /** A file holding the secret of {@link browserClientId} when it is a confidential client; unset: a public client. */
  browserClientSecretFile?: string;
  /** The claim that holds the user's groups. Default `groups`. */
  groupsClaim?: string;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Also request `offline_access` (a refresh token) in `tofu login`. Default false. */
  offlineAccess?: boolean;
  /** The loopback port range `tofu login` listens in, `[min, max]`. Default `[10000, 10010]`. */
  loginPorts?: [number, number];
  /**
   * The least time between two key set fetches caused by tokens whose `kid` is not in the cached
   * key set, in seconds. Default 30.
   */
  jwksRefreshCooldownSeconds?: number;
  /** How long a fetched key set is used before it is fetched again, in seconds. Default 600. */
  jwksCacheSeconds?: number;
  /** How long start-up keeps retrying discovery while the issuer is unreachable, in seconds. Default 60. */
  discoveryTimeoutSeconds?: number;
  /** Allow `http:` issuer URLs on hosts other than loopback. Default false. */
  allowInsecureHttp?: boolean;
  /**
   * How long a verified token's principal is reused without verifying its signature again, in
   * seconds (never past the token's `exp`); 0 verifies every request. Default 60.
   */
  verifiedTokenCacheSeconds?: number;
  /** The most verified tokens remembered at once (the oldest goes first). Default 10000. */
  verifiedTokenCacheMaxEntries?: number;
}

/** {@link DexAuthConfig} with every default filled in. */
export type ResolvedDexAuthConfig = Required<Omit<DexAuthConfig, 'internalIssuerUrl' | 'browserClientSecretFile'>> & {
  internalIssuerUrl: string | undefined;
  browserClientSecretFile: string | undefined;
};

/** The defaults of the optional fields. */
export const DEFAULTS = {
  groupsClaim: 'groups',
  clockSkewSeconds: 60,
  offlineAccess: false,
  loginPorts: [10000, 10010] as [number, number],
  jwksRefreshCooldownSeconds: 30,
  jwksCacheSeconds: 600,
  discoveryTimeoutSeconds: 60,
  allowInsecureHttp: false,
  verifiedTokenCacheSeconds: 60,
  verifiedTokenCacheMaxEntries: 10_000,
} as const;

const URL_PATTERN = '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$';

/** JSON Schema (draft-07) of {@link DexAuthConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'dex auth',
  description: 'Authenticates OIDC bearer tokens issued by Dex, and advertises login.v1 so tofu login works.',
  type: 'object',
  additionalProperties: false,
  required: ['issuerUrl', 'clientId'],
  properties: {
    issuerUrl: {
      type: 'string',
      description:
        "Dex's issuer URL exactly as tokens carry it in iss, e.g. https://dex.example.com/dex. Users' browsers reach its authorization endpoint during tofu login. Must be https unless its host is loopback or allowInsecureHttp is set.",
      pattern: URL_PATTERN,
      maxLength: 2048,
    },
    clientId: {
      type: 'string',
      description: 'The Dex static public client tofu login uses (its id); tokens must carry it in aud.',
      minLength: 1,
      maxLength: 256,
    },
    internalIssuerUrl: {
      type: 'string',
      description:
        'Where this process reaches Dex when that is not issuerUrl, e.g. http://dex.opendepot-system.svc:5556/dex. Discovery and key set requests for URLs under issuerUrl go there; iss must still be issuerUrl.',
      pattern: URL_PATTERN,
      maxLength: 2048,
    },
    additionalAudiences: {
      type: 'array',
      description: 'Further client ids accepted in aud besides clientId, e.g. a confidential client that CI gets tokens from.',
      items: { type: 'string', minLength: 1, maxLength: 256 },
      maxItems: 32,
    },
    browserClientId: {
      type: 'string',
      description:
        "The Dex static client the registry's web UI signs browsers in as (authorization code + PKCE); its redirectURIs must list <server.externalUrl>/ui/callback. Its tokens are accepted like clientId's. Default: clientId.",
      minLength: 1,
      maxLength: 256,
    },
    browserClientSecretFile: {
      type: 'string',
      description: 'A file holding the secret of browserClientId, when that is a confidential Dex client (the secret itself never goes in config). Unset: a public client, PKCE only.',
      minLength: 1,
      maxLength: 4096,
    },
    groupsClaim: {
      type: 'string',
      description: 'The token claim that holds the groups GroupBinding expressions see as groups (a string or an array of strings).',
      minLength: 1,
      maxLength: 256,
      default: DEFAULTS.groupsClaim,
    },
    clockSkewSeconds: {
      type: 'integer',
      description: 'Leeway in seconds when checking exp, nbf and iat against this clock.',
      minimum: 0,
      maximum: 300,
      default: DEFAULTS.clockSkewSeconds,
    },
    offlineAccess: {
      type: 'boolean',
      description: 'Also ask for offline_access (a refresh token) in the scopes login.v1 advertises.',
      default: DEFAULTS.offlineAccess,
    },
    loginPorts: {
      type: 'array',
      description:
        'The loopback port range [min, max] tofu login listens in for the redirect; the clients pick a port in [min, max-1]. The Dex client must accept http://localhost:<port>/login for each.',
      items: { type: 'integer', minimum: 1024, maximum: 65535 },
      minItems: 2,
      maxItems: 2,
      default: DEFAULTS.loginPorts,
    },
    jwksRefreshCooldownSeconds: {
      type: 'integer',
      description: "The least time in seconds between two fetches of Dex's key set caused by tokens with an unknown kid (a rotation); bounds what forged tokens can cost.",
      minimum: 1,
      maximum: 3600,
      default: DEFAULTS.jwksRefreshCooldownSeconds,
    },
    jwksCacheSeconds: {
      type: 'integer',
      description: 'How long a fetched key set is used before the next request fetches it again (so keys Dex retired stop verifying). When that fetch fails, the last key set stays in use.',
      minimum: 1,
      maximum: 86400,
      default: DEFAULTS.jwksCacheSeconds,
    },
    discoveryTimeoutSeconds: {
      type: 'integer',
      description: 'How long start-up keeps retrying OIDC discovery while Dex is unreachable before it fails.',
      minimum: 1,
      maximum: 3600,
      default: DEFAULTS.discoveryTimeoutSeconds,
    },
    allowInsecureHttp: {
      type: 'boolean',
      description:
        'Allow http issuer URLs on hosts other than loopback (e.g. an in-cluster internalIssuerUrl). Keys fetched over plain HTTP can be replaced by anyone on the path, so only where the network is trusted.',
      default: DEFAULTS.allowInsecureHttp,
    },
    verifiedTokenCacheSeconds: {
      type: 'integer',
      description:
        "How long in seconds a verified token's principal is reused without checking its signature again (never past its exp; a key Dex retires keeps such a token valid at most this long). 0 verifies every request.",
      minimum: 0,
      maximum: 600,
      default: DEFAULTS.verifiedTokenCacheSeconds,
    },
    verifiedTokenCacheMaxEntries: {
      type: 'integer',
      description: 'The most verified tokens remembered at once; the oldest is forgotten first.',
      minimum: 1,
      maximum: 1000000,
      default: DEFAULTS.verifiedTokenCacheMaxEntries,
    },
  },
};

/**
 * Fills in defaults and checks what the schema cannot: URLs parse, `http:` only where allowed,
 * the port range is ordered.
 */
export function resolveConfig(config: DexAuthConfig, configPath = 'config'): ResolvedDexAuthConfig {
  const resolved: ResolvedDexAuthConfig = {
    issuerUrl: config.issuerUrl,
    clientId: config.clientId,
    internalIssuerUrl: config.internalIssuerUrl,
    additionalAudiences: config.additionalAudiences ?? [],
    browserClientId: config.browserClientId ?? config.clientId,
    browserClientSecretFile: config.browserClientSecretFile,
    groupsClaim: config.groupsClaim ?? DEFAULTS.groupsClaim,
    clockSkewSeconds: config.clockSkewSeconds ?? DEFAULTS.clockSkewSeconds,
    offlineAccess: config.offlineAccess ?? DEFAULTS.offlineAccess,
    loginPorts: config.loginPorts ?? DEFAULTS.loginPorts,
    jwksRefreshCooldownSeconds: config.jwksRefreshCooldownSeconds ?? DEFAULTS.jwksRefreshCooldownSeconds,
    jwksCacheSeconds: config.jwksCacheSeconds ?? DEFAULTS.jwksCacheSeconds,
    discoveryTimeoutSeconds: config.discoveryTimeoutSeconds ?? DEFAULTS.discoveryTimeoutSeconds,
    allowInsecureHttp: config.allowInsecureHttp ?? DEFAULTS.allowInsecureHttp,
    verifiedTokenCacheSeconds: config.verifiedTokenCacheSeconds ?? DEFAULTS.verifiedTokenCacheSeconds,
    verifiedTokenCacheMaxEntries: config.verifiedTokenCacheMaxEntries ?? DEFAULTS.verifiedTokenCacheMaxEntries,
  };
  for (const field of ['issuerUrl', 'internalIssuerUrl'] as const) {
    const value = resolved[field];
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InputError(`${configPath}.${field} is not a URL`, { field: `${configPath}.${field}` });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new InputError(`${configPath}.${field} must be an http(s) URL`, { field: `${configPath}.${field}` });
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
      throw new InputError(`${configPath}.${field} must not carry credentials, a query or a fragment`, { field: `${configPath}.${field}` });
    }
    if (url.protocol === 'http:' && !resolved.allowInsecureHttp && !isLoopback(url.hostname)) {
      throw new InputError(`${configPath}.${field} uses http on a host that is not loopback`, {
        field: `${configPath}.${field}`,
        hint: 'use https, or set allowInsecureHttp: true where the network to Dex is trusted (e.g. inside the cluster)',
      });
    }
  }
  const [min, max] = resolved.loginPorts;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1024 && max <= 65535 && min < max)) {
    // min === max would make both clients panic (rand.Intn(0)).
    throw new InputError(`${configPath}.loginPorts must be two ports [min, max] with 1024 <= min < max <= 65535`, { field: `${configPath}.loginPorts` });
  }
  return resolved;
}

/** Loopback host names and addresses: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
