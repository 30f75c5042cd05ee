/**
 * The operator's Prometheus metrics (served at /metrics): queue depth, reconciles by result,
 * errors and durations per controller, and whether this replica leads.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Metrics shared by every controller of the process. */
export interface RuntimeMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly leader: Gauge;
  /** Reports the depth of a controller's queue at every scrape. */
  trackQueue(controller: string, depth: () => number, active: () => number): void;
}

/** Options of {@link createRuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /** Where to register; a new registry by default. */
  registry?: Registry;
  /** Also collect Node's process metrics (memory, CPU, event loop lag). Default true. */
  processMetrics?: boolean;
  /** Prefix of every name. Default `opendepot_operator_`. */
  prefix?: string;
}

/** Creates and registers the runtime's metrics. */
export function createRuntimeMetrics(options: RuntimeMetricsOptions = {}): RuntimeMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'opendepot_operator_';
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const queues = new Map<string, { depth: () => number; active: () => number }>();

  const reconcileTotal = new Counter({
    name: `${prefix}reconcile_total`,
    help: 'Reconciles by controller and result (success, requeue_after, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const reconcileErrors = new Counter({
    name: `${prefix}reconcile_errors_total`,
    help: 'Reconciles that failed and were retried with backoff.',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: `${prefix}reconcile_duration_seconds`,
    help: 'Time a reconcile took.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  new Gauge({
    name: `${prefix}workqueue_depth`,
    help: 'Keys waiting for a worker.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, q] of queues) this.set({ controller }, q.depth());
    },
  });
  new Gauge({
    name: `${prefix}workqueue_active`,
    help: 'Keys being reconciled now.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, q] of queues) this.set({ controller }, q.active());
    },
  });
  const leader = new Gauge({ name: `${prefix}leader`, help: '1 while this replica holds the leader lease.', registers: [registry] });
  leader.set(0);

  return {
    registry,
    reconcileTotal,
    reconcileErrors,
    reconcileDuration,
    leader,
    trackQueue(controller, depth, active) {
      queues.set(controller, { depth, active });
    },
  };
}
