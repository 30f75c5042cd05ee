/** Prometheus metrics of the registry server. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's metrics, in a registry of their own (so several servers can share a process). */
export interface ServerMetrics {
  registry: Registry;
  /** Requests by route name, method and status. */
  requests: Counter<'route' | 'method' | 'status'>;
  /** Time from request to the end of the response, by route name, method and status. */
  duration: Histogram<'route' | 'method' | 'status'>;
  /** Response body bytes sent, by route name. */
  bytesServed: Counter<'route'>;
  /** Archive downloads aborted because the stored bytes did not match the recorded checksum. */
  verificationFailures: Counter;
  /** Proxied downloads that completed verified, by how: `sha256` (the first in this process) or `tag` (the keyed tag of that verification). */
  archiveVerifications: Counter<'by'>;
  /** `SHA256SUMS` signatures computed (each is cached, so this grows once per version and content). */
  signatures: Counter;
  /** Access decisions, by the provider that authenticated (or refused) the caller and allow/deny. */
  authDecisions: Counter<'provider' | 'decision'>;
  /** Lookups of the auth caches (TokenReview, SubjectAccessReview, kubeconfig), by hit or miss. */
  authCacheLookups: Counter<'cache' | 'result'>;
}

/** Creates the metrics; `defaultMetrics` adds the process and Node.js runtime metrics. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const authDecisions = new Counter({
    name: 'opendepot_server_auth_decisions_total',
    help: 'Access decisions, by the auth provider that authenticated (or refused) the caller and the decision.',
    labelNames: ['provider', 'decision'],
    registers: [registry],
  });
  const authCacheLookups = new Counter({
    name: 'opendepot_server_auth_cache_lookups_total',
    help: 'Lookups of the Kubernetes auth caches (tokenreview, subjectaccessreview, kubeconfig), by result (hit or miss).',
    labelNames: ['cache', 'result'],
    registers: [registry],
  });
  new Gauge({
    name: 'opendepot_server_auth_cache_hit_ratio',
    help: 'Share of auth cache lookups answered from the cache since start, by cache.',
    labelNames: ['cache'],
    registers: [registry],
    async collect() {
      const { values } = await authCacheLookups.get();
      const totals = new Map<string, { hit: number; all: number }>();
      for (const { labels, value } of values) {
        const cache = String(labels.cache);
        const t = totals.get(cache) ?? { hit: 0, all: 0 };
        t.all += value;
        if (labels.result === 'hit') t.hit += value;
        totals.set(cache, t);
      }
      this.reset();
      for (const [cache, t] of totals) this.set({ cache }, t.all === 0 ? 0 : t.hit / t.all);
    },
  });
  return {
    registry,
    requests: new Counter({
      name: 'opendepot_server_http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'opendepot_server_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its response (archives: the whole transfer).',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    bytesServed: new Counter({
      name: 'opendepot_server_response_bytes_total',
      help: 'Response body bytes sent, by route.',
      labelNames: ['route'],
      registers: [registry],
    }),
    verificationFailures: new Counter({
      name: 'opendepot_server_archive_verification_failures_total',
      help: 'Archive downloads aborted because the stored bytes did not match the checksum recorded on the Version.',
      registers: [registry],
    }),
    archiveVerifications: new Counter({
      name: 'opendepot_server_archive_verifications_total',
      help: 'Proxied archive downloads that completed verified, by how: sha256 (first in this process) or tag (the keyed tag of that verification).',
      labelNames: ['by'],
      registers: [registry],
    }),
    signatures: new Counter({
      name: 'opendepot_server_shasums_signatures_total',
      help: 'Provider SHA256SUMS signatures computed; each is cached per version, content and key.',
      registers: [registry],
    }),
    authDecisions,
    authCacheLookups,
  };
}
