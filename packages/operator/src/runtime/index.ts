/**
 * The operator runtime: work queue, controllers, conditions, status writes, Events, finalizers,
 * leader election, probes and metrics. The controllers of each kind are built on it.
 */
export * from './work-queue.ts';
export * from './controller.ts';
export * from './conditions.ts';
export * from './status.ts';
export * from './events.ts';
export * from './finalizers.ts';
export * from './leader-election.ts';
export * from './metrics.ts';
export * from './health.ts';
export * from './spool.ts';
