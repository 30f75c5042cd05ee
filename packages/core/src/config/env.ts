/** The `OPENDEPOT_*` environment variables and the configuration fields they set. */
import { parse } from 'yaml';
import { ConfigError } from './config-error.ts';

/** How a variable's text becomes a value. */
export type EnvValueType = 'string' | 'integer' | 'boolean' | 'list' | 'yaml';

/** One environment variable and the field it sets. */
export interface EnvMapping {
  name: string;
  /** Field path in the configuration, e.g. `['server', 'port']`. */
  path: readonly string[];
  type: EnvValueType;
  description: string;
}

/**
 * Every environment variable the host reads. They override the configuration file. An empty
 * value counts as unset.
 */
export const ENV_MAPPINGS: readonly EnvMapping[] = [
  { name: 'OPENDEPOT_LOG_LEVEL', path: ['logLevel'], type: 'string', description: 'trace, debug, info, warn, error, fatal or silent' },
  { name: 'OPENDEPOT_NAMESPACE', path: ['namespace'], type: 'string', description: 'the namespace the host runs in' },
  { name: 'OPENDEPOT_PLUGINS_DIR', path: ['pluginsDir'], type: 'string', description: 'npm prefix directory of installed plugins' },
  { name: 'OPENDEPOT_ALLOW_FILE_URLS', path: ['allowFileUrls'], type: 'boolean', description: 'accept file:// repository URLs' },
  { name: 'OPENDEPOT_DEFAULT_STORAGE_CONFIG', path: ['defaultStorageConfig'], type: 'yaml', description: 'default storageConfig, as JSON or YAML' },
  { name: 'OPENDEPOT_SERVER_PORT', path: ['server', 'port'], type: 'integer', description: 'server listening port' },
  { name: 'OPENDEPOT_SERVER_HOST', path: ['server', 'host'], type: 'string', description: 'server listening address' },
  { name: 'OPENDEPOT_SERVER_METRICS_PORT', path: ['server', 'metricsPort'], type: 'integer', description: "port of the server's /metrics" },
  { name: 'OPENDEPOT_SERVER_EXTERNAL_URL', path: ['server', 'externalUrl'], type: 'string', description: 'URL clients reach the registry at (base of every URL it hands out)' },
  { name: 'OPENDEPOT_SERVER_TRUSTED_PROXIES', path: ['server', 'trustedProxies'], type: 'list', description: 'comma-separated IPs/CIDRs whose X-Forwarded-* headers are believed' },
  { name: 'OPENDEPOT_SERVER_TLS_CERT_FILE', path: ['server', 'tls', 'certFile'], type: 'string', description: 'PEM certificate file' },
  { name: 'OPENDEPOT_SERVER_TLS_KEY_FILE', path: ['server', 'tls', 'keyFile'], type: 'string', description: 'PEM private key file' },
  { name: 'OPENDEPOT_OPERATOR_CONCURRENCY', path: ['operator', 'concurrency'], type: 'integer', description: 'reconciles at once' },
  { name: 'OPENDEPOT_OPERATOR_LEADER_ELECTION', path: ['operator', 'leaderElection', 'enabled'], type: 'boolean', description: 'use a Lease' },
  { name: 'OPENDEPOT_WATCH_NAMESPACES', path: ['operator', 'watchNamespaces'], type: 'list', description: 'comma-separated namespaces to watch' },
  { name: 'OPENDEPOT_AUTH_ANONYMOUS', path: ['auth', 'anonymous', 'enabled'], type: 'boolean', description: 'everyone may read everything (default true)' },
  { name: 'OPENDEPOT_AUTH_KUBERNETES', path: ['auth', 'kubernetes', 'enabled'], type: 'boolean', description: 'accept Kubernetes tokens (TokenReview + RBAC)' },
  { name: 'OPENDEPOT_AUTH_KUBERNETES_AUDIENCES', path: ['auth', 'kubernetes', 'audiences'], type: 'list', description: 'comma-separated TokenReview audiences' },
  { name: 'OPENDEPOT_AUTH_KUBECONFIG', path: ['auth', 'kubeconfig', 'enabled'], type: 'boolean', description: 'accept base64 kubeconfigs as tokens (local clusters only)' },
  { name: 'OPENDEPOT_AUTH_DOWNLOAD_URL_SECRET_FILE', path: ['auth', 'downloadUrlSecretFile'], type: 'string', description: 'file with the key that signs download URLs' },
  {
    name: 'OPENDEPOT_SCAN_BLOCK_SEVERITIES',
    path: ['operator', 'scanning', 'blockSeverities'],
    type: 'list',
    description: 'comma-separated scan severities that keep a module out, e.g. CRITICAL,HIGH',
  },
];

/** The configuration fields set by the environment, and which variable set each. */
export interface EnvOverrides {
  values: Record<string, unknown>;
  /** Dotted field path → variable name, to say where a bad value came from. */
  sources: Map<string, string>;
  /** Mapped variables left unread because they are Kubernetes service links, one line each. */
  ignored: string[];
}

/**
 * Whether a variable is one the kubelet injects for a Service (docker-link style): for a Service
 * named `opendepot-server` it sets `OPENDEPOT_SERVER_PORT=tcp://10.0.0.7:443`,
 * `OPENDEPOT_SERVER_SERVICE_HOST`, `OPENDEPOT_SERVER_PORT_443_TCP_ADDR` and friends, which share
 * the `OPENDEPOT_` prefix but are not configuration.
 */
export function isServiceLinkVariable(name: string, value: string): boolean {
  return /^(tcp|udp|sctp):\/\/[^\s/]+:\d+$/i.test(value.trim()) || /_SERVICE_(HOST|PORT)(_|$)/.test(name) || /_PORT_\d+_(TCP|UDP|SCTP)(_|$)/.test(name);
}

/** Reads the mapped variables from `env`. Throws {@link ConfigError} for a value of the wrong type. */
export function readEnv(env: Record<string, string | undefined>): EnvOverrides {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const ignored: string[] = [];
  for (const mapping of ENV_MAPPINGS) {
    const text = env[mapping.name];
    if (text === undefined || text.trim() === '') continue;
    if (isServiceLinkVariable(mapping.name, text)) {
      ignored.push(`ignored ${mapping.name}=${text.trim()}: it is a Kubernetes service-link variable, not configuration (set enableServiceLinks: false on the pod to stop the kubelet injecting it)`);
      continue;
    }
    setPath(values, mapping.path, convert(mapping, text.trim()));
    sources.set(mapping.path.join('.'), mapping.name);
  }
  return { values, sources, ignored };
}

function convert(mapping: EnvMapping, text: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`environment variable ${mapping.name} must be ${expected}, not ${JSON.stringify(text)}`, {
      field: mapping.path.join('.'),
      source: mapping.name,
      hint: `Fix or unset ${mapping.name} (${mapping.description}).`,
    });
  };
  switch (mapping.type) {
    case 'string':
      return text;
    case 'integer':
      return /^-?\d+$/.test(text) ? Number(text) : fail('an integer');
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return fail('true or false');
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'yaml':
      try {
        return parse(text);
      } catch (err) {
        // The text may hold credentials: name the variable, not its value.
        throw new ConfigError(`environment variable ${mapping.name} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`, {
          field: mapping.path.join('.'),
          source: mapping.name,
          cause: err,
        });
      }
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
