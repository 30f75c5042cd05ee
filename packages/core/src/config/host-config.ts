/**
 * The host's configuration (operator and server): its TypeScript type and JSON Schema. The top
 * level is open, so the file can be a whole Helm values file; what is defined here is validated.
 */
import { presignSchema, storageConfigSchema, type PresignConfig, type StorageConfig } from '../crds/storage.ts';
import { LOG_LEVELS, type LogLevel } from '../logging/logger.ts';
import { pluginEntrySchema, type PluginEntry } from '../plugins/entry.ts';
import type { StorageSettings } from './storage-profiles.ts';

/** TLS for the server's listener. */
export interface TlsConfig {
  /** PEM certificate chain file. */
  certFile: string;
  /** PEM private key file. */
  keyFile: string;
}

/** `server.gpg`: the key the registry signs provider `SHA256SUMS` with (files of a mounted Secret). */
export interface GpgConfig {
  /** OpenPGP private key file, ASCII-armored or binary (RSA 4096 v4 is what every client reads). */
  privateKeyFile: string;
  /** File holding the key's passphrase; unset when the key is not encrypted. */
  passphraseFile?: string;
}

/**
 * `server.limits`: what one client may cost the server. Timeouts are in seconds. A connection
 * over `maxConnections` is closed at once; a response whose socket takes no bytes for
 * `sendIdleTimeoutSeconds` (a client that stopped reading) is cut, freeing its storage stream.
 */
export interface ServerLimits {
  /** Time to receive a request's headers. Default 10. */
  headersTimeoutSeconds: number;
  /** Time to receive a whole request (GET/HEAD: its headers). Default 30. */
  requestTimeoutSeconds: number;
  /** How long an idle keep-alive connection stays open. Default 5. */
  keepAliveTimeoutSeconds: number;
  /** Open connections at most (the metrics port counts apart); more are closed when accepted. Default 256 (measured inside the chart's 256Mi: server README). */
  maxConnections: number;
  /** A connection that accepts no bytes (or sends none) for this long is closed. Default 30. */
  sendIdleTimeoutSeconds: number;
}

/** `server:`, read by the registry server. */
export interface ServerConfig {
  /** Listening port; 0 picks a free one. Default 8080. */
  port: number;
  /** Listening address. Default `0.0.0.0`. */
  host: string;
  /** Port of `/metrics` (never served on `port`), same address and TLS; 0 picks a free one. Default 9090. */
  metricsPort: number;
  /**
   * The URL clients reach the registry at, e.g. `https://registry.example.com`, or
   * `https://example.com/registry` behind a proxy that adds a prefix: the base of every URL the
   * server hands out. Unset, each answer's URLs are built from its request: the `Host` it was sent
   * to, and `X-Forwarded-Proto`/`-Host`/`-Prefix` when the peer is one of `trustedProxies`.
   */
  externalUrl?: string;
  /** Reverse proxies (IP addresses or CIDRs) whose `X-Forwarded-*` headers are believed. Default none. */
  trustedProxies: string[];
  limits: ServerLimits;
  /** The chart-wide presign default: each field an archive's storageConfig, Depot and storage profile leave unset. */
  presign?: PresignConfig;
  /** Serve HTTPS with this certificate; unset means plain HTTP (TLS terminated in front). */
  tls?: TlsConfig;
  /** The provider signing key; without it providers.v1 downloads answer 500 (nothing unsigned is served). */
  gpg?: GpgConfig;
  [key: string]: unknown;
}

/** `operator:`, read by the controllers. */
export interface OperatorConfig {
  /** Reconciles running at once, over all kinds. Default 4. */
  concurrency: number;
  leaderElection: {
    /** Default true: only the replica holding the Lease reconciles. */
    enabled: boolean;
    /** Name of the Lease. Default `opendepot-operator`. */
    leaseName: string;
  };
  /** Namespaces to watch; unset or empty means all namespaces. */
  watchNamespaces?: string[];
  /** How often a Ready Version's stored archive is read and hashed again. Default 600 s. */
  verifyIntervalSeconds: number;
  /** The GitHub API the `github` source calls; another base URL for GitHub Enterprise or a local stand-in. */
  github: { apiUrl: string };
  /**
   * Hosts git remotes may be on, and hosts the GitHub API's redirects may lead to (exact names, or
   * `*.example.com`). Unset: any host over https/ssh. The chart sets GitHub's hosts.
   */
  allowedGitHosts?: string[];
  /** Which addresses the operator connects to upstream (checked on the connection itself, after DNS). */
  egress: {
    /** Connect to loopback, private (RFC 1918, ULA), link-local (cloud metadata), CGNAT, unspecified and multicast addresses. Default false. */
    allowPrivateNetworks: boolean;
    /** Such ranges allowed anyway, e.g. `[10.20.0.0/16]` for an internal git server, `[127.0.0.0/8]` for local stand-ins. Default none. */
    allowedPrivateCidrs: string[];
  };
  /** Where provider releases come from and which publisher keys are trusted. */
  providers: {
    /** The HashiCorp Releases API. Default https://api.releases.hashicorp.com */
    hashicorpReleasesUrl: string;
    /** ASCII-armored public keys trusted to sign HashiCorp releases (HashiCorp publishes its key at https://www.hashicorp.com/security). */
    hashicorpTrustedKeys: string[];
    /** Hosts an upstream provider registry may be on. Unset: any https host. */
    allowedRegistryHosts?: string[];
    /**
     * Hosts the URLs an upstream hands back may be on (download_url, shasums_url,
     * shasums_signature_url, the Releases API's build URLs) and every redirect of a provider
     * download, besides allowedRegistryHosts and the Releases API's own host. Unset: any https host.
     */
    allowedDownloadHosts?: string[];
    /** Accept http:// upstreams (local stand-ins only). Default false. */
    allowInsecureHttp: boolean;
  };
  /** Bounds on every cost an upstream controls (issue 10 §2). */
  limits: OperatorLimitsConfig;
  /** What the scanner plugins' findings do. Modules are scanned when a scanner plugin is loaded. */
  scanning: {
    /** Findings of these severities keep a module out of the registry (Stalled, ScanBlocked). Default: none (report only). */
    blockSeverities: Array<'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'>;
  };
  [key: string]: unknown;
}

/** `operator.limits`: bounds on every cost an upstream controls. */
export interface OperatorLimitsConfig {
  /** A reconcile is aborted (and retried with backoff) after this long. Default 900. */
  reconcileTimeoutSeconds: number;
  /** An upstream body (HTTP or git over https) that sends nothing for this long is cut. Default 60. */
  upstreamIdleTimeoutSeconds: number;
  /** An upstream body slower than this on average over an idle-timeout window is cut. Default 1024. */
  upstreamMinBytesPerSecond: number;
  /** Entries a provider zip may have, checked before hashing. Default 10000. */
  providerZipMaxEntries: number;
  /** Uncompressed bytes of a provider zip (declared and inflated). Default 4 GiB. */
  providerZipMaxUncompressedBytes: number;
  /** Bytes of one provider package as downloaded. Default 4 GiB. */
  providerPackageMaxBytes: number;
  /** Keys of one namespace a controller reconciles at once. Default: concurrency - 1 (at least 1). */
  maxInFlightPerNamespace?: number;
  /** How long one `git ls-remote` of a repository is shared by all its Versions. Default 60. */
  gitTagsCacheSeconds: number;
}

/**
 * `auth:`: who may read what. The built-in methods below are tried first (kubernetes, then
 * kubeconfig), then the `auth` plugins of `plugins:` in order, then anonymous; the first that
 * does not abstain decides.
 */
export interface AuthConfig {
  /** Everyone may read everything, as `system:anonymous`. Default true (a registry without login). */
  anonymous: { enabled: boolean };
  /** Kubernetes bearer tokens (ServiceAccount tokens): TokenReview, then RBAC `get` on the Module or Provider by name. */
  kubernetes: {
    /** Default false. */
    enabled: boolean;
    /** Audiences the TokenReview asks for; empty means the API server's own. Default none. */
    audiences: string[];
    /** How long a TokenReview or SubjectAccessReview answer is reused. Default 10. */
    cacheTtlSeconds: number;
    /** Answers kept at most (per cache; the oldest go first). Default 10000. */
    cacheMaxEntries: number;
  };
  /**
   * A base64 kubeconfig as the bearer token (local clusters only): the credentials of its current
   * user are checked against the registry's own API server (its `server` is ignored), then RBAC
   * decides as for `kubernetes`. Default false.
   */
  kubeconfig: { enabled: boolean };
  /** Lifetime of the signed download URLs the server writes when anonymous access is off. Default 300. */
  downloadUrlTtlSeconds: number;
  /**
   * File holding the HMAC key of signed download URLs (at least 32 bytes). Every replica must
   * share it; unset, each process makes a random one (fine for one replica).
   */
  downloadUrlSecretFile?: string;
}

/** The whole configuration, after defaults. */
export interface HostConfig {
  /** Default `info`. */
  logLevel: LogLevel;
  /** The namespace the host runs in (where it reads its own Secrets and Leases). */
  namespace?: string;
  /** npm prefix directory plugins are installed into (`<pluginsDir>/node_modules/<package>`). */
  pluginsDir?: string;
  /** The plugins to load; any that fails stops start-up. Default none. */
  plugins: PluginEntry[];
  /**
   * Named storage profiles: the only places backends, endpoints and credentials come from. A
   * resource picks one (`storageConfig.profile`) and may set only its tenant-settable fields.
   */
  storage: StorageSettings;
  /** Shorthand for one profile named `default` with nothing tenant-settable (when `storage.profiles` is unset). */
  defaultStorageConfig?: StorageConfig;
  /** Accept `file://` repository URLs (local development and tests only). Default false. */
  allowFileUrls: boolean;
  server: ServerConfig;
  operator: OperatorConfig;
  auth: AuthConfig;
  [key: string]: unknown;
}

/** JSON Schema (draft-07) of {@link HostConfig}, with its defaults. */
export const hostConfigSchema = {
  type: 'object',
  properties: {
    logLevel: { enum: [...LOG_LEVELS], default: 'info' },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    pluginsDir: { type: 'string', minLength: 1 },
    plugins: { type: 'array', items: pluginEntrySchema, default: [] },
    storage: {
      type: 'object',
      default: {},
      properties: {
        defaultProfile: { type: 'string', minLength: 1, maxLength: 63 },
        profiles: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: {
              presign: presignSchema.json,
              tenantSettable: {
                type: 'object',
                additionalProperties: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 1024 } },
              },
            },
            // The one backend key: its config is checked against the plugin's schema at start.
            additionalProperties: { type: 'object' },
          },
        },
      },
    },
    defaultStorageConfig: storageConfigSchema.json,
    allowFileUrls: { type: 'boolean', default: false },
    server: {
      type: 'object',
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        host: { type: 'string', minLength: 1, default: '0.0.0.0' },
        metricsPort: { type: 'integer', minimum: 0, maximum: 65535, default: 9090 },
        limits: {
          type: 'object',
          default: {},
          properties: {
            headersTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
            requestTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30 },
            keepAliveTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 5 },
            maxConnections: { type: 'integer', minimum: 1, maximum: 1000000, default: 256 },
            sendIdleTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30 },
          },
        },
        externalUrl: { type: 'string', pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$' },
        trustedProxies: {
          type: 'array',
          items: { type: 'string', pattern: '^([0-9.]+|[0-9A-Fa-f:.]+)(/[0-9]{1,3})?$' },
          default: [],
        },
        presign: presignSchema.json,
        tls: {
          type: 'object',
          required: ['certFile', 'keyFile'],
          properties: { certFile: { type: 'string', minLength: 1 }, keyFile: { type: 'string', minLength: 1 } },
        },
        gpg: {
          type: 'object',
          required: ['privateKeyFile'],
          properties: { privateKeyFile: { type: 'string', minLength: 1 }, passphraseFile: { type: 'string', minLength: 1 } },
        },
      },
    },
    auth: {
      type: 'object',
      default: {},
      properties: {
        anonymous: { type: 'object', default: {}, properties: { enabled: { type: 'boolean', default: true } } },
        kubernetes: {
          type: 'object',
          default: {},
          properties: {
            enabled: { type: 'boolean', default: false },
            audiences: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
            cacheTtlSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 10 },
            cacheMaxEntries: { type: 'integer', minimum: 1, maximum: 10000000, default: 10000 },
          },
        },
        kubeconfig: { type: 'object', default: {}, properties: { enabled: { type: 'boolean', default: false } } },
        downloadUrlTtlSeconds: { type: 'integer', minimum: 10, maximum: 86400, default: 300 },
        downloadUrlSecretFile: { type: 'string', minLength: 1 },
      },
    },
    operator: {
      type: 'object',
      default: {},
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 4 },
        leaderElection: {
          type: 'object',
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            leaseName: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253, default: 'opendepot-operator' },
          },
        },
        watchNamespaces: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } },
        verifyIntervalSeconds: { type: 'integer', minimum: 1, maximum: 604800, default: 600 },
        github: {
          type: 'object',
          default: {},
          properties: { apiUrl: { type: 'string', pattern: '^https?://\\S+$', default: 'https://api.github.com' } },
        },
        allowedGitHosts: { type: 'array', items: { type: 'string', minLength: 1 } },
        egress: {
          type: 'object',
          default: {},
          properties: {
            allowPrivateNetworks: { type: 'boolean', default: false },
            allowedPrivateCidrs: {
              type: 'array',
              items: { type: 'string', pattern: '^([0-9.]+|[0-9A-Fa-f:.]+)/[0-9]{1,3}$' },
              default: [],
            },
          },
        },
        providers: {
          type: 'object',
          default: {},
          properties: {
            hashicorpReleasesUrl: { type: 'string', pattern: '^https?://\\S+$', default: 'https://api.releases.hashicorp.com' },
            hashicorpTrustedKeys: { type: 'array', items: { type: 'string', pattern: '-----BEGIN PGP PUBLIC KEY BLOCK-----' }, default: [] },
            allowedRegistryHosts: { type: 'array', items: { type: 'string', minLength: 1 } },
            allowedDownloadHosts: { type: 'array', items: { type: 'string', minLength: 1 } },
            allowInsecureHttp: { type: 'boolean', default: false },
          },
        },
        limits: {
          type: 'object',
          default: {},
          properties: {
            reconcileTimeoutSeconds: { type: 'integer', minimum: 10, maximum: 86400, default: 900 },
            upstreamIdleTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 60 },
            upstreamMinBytesPerSecond: { type: 'integer', minimum: 1, maximum: 1073741824, default: 1024 },
            providerZipMaxEntries: { type: 'integer', minimum: 1, maximum: 1000000, default: 10000 },
            providerZipMaxUncompressedBytes: { type: 'integer', minimum: 1, maximum: 1099511627776, default: 4294967296 },
            providerPackageMaxBytes: { type: 'integer', minimum: 1, maximum: 1099511627776, default: 4294967296 },
            maxInFlightPerNamespace: { type: 'integer', minimum: 1, maximum: 256 },
            gitTagsCacheSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 60 },
          },
        },
        scanning: {
          type: 'object',
          default: {},
          properties: {
            blockSeverities: {
              type: 'array',
              items: { type: 'string', enum: ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
              uniqueItems: true,
              default: [],
            },
          },
        },
      },
    },
  },
} as const;

/**
 * Sections whose unknown keys are reported as warnings (likely typos). The top level is not
 * among them: it may be a Helm values file with many other keys.
 */
export const WARN_UNKNOWN_KEYS_IN: readonly (readonly string[])[] = [
  ['storage'],
  ['server'],
  ['server', 'limits'],
  ['server', 'tls'],
  ['server', 'gpg'],
  ['operator'],
  ['operator', 'leaderElection'],
  ['operator', 'github'],
  ['operator', 'egress'],
  ['operator', 'providers'],
  ['operator', 'scanning'],
  ['operator', 'limits'],
  ['auth'],
  ['auth', 'anonymous'],
  ['auth', 'kubernetes'],
  ['auth', 'kubeconfig'],
];
