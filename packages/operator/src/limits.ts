/**
 * Bounds on every cost an upstream controls (issue 10 §2): the `operator.limits` configuration,
 * its defaults, and the errors that say which limit was hit and which key raises it.
 */
import { REASONS, type OperatorLimitsConfig } from '@opendepot/core';
import { InputError, UnavailableError } from '@opendepot/sdk';

/** `operator.limits` after defaults: the host configuration's own shape (its schema and docs are in core). */
export type OperatorLimits = OperatorLimitsConfig;

/** The defaults: generous for real upstreams (the AWS provider unzips to under 1 GiB). */
export const DEFAULT_OPERATOR_LIMITS: Readonly<OperatorLimits> = Object.freeze({
  reconcileTimeoutSeconds: 900,
  upstreamIdleTimeoutSeconds: 60,
  upstreamMinBytesPerSecond: 1024,
  providerZipMaxEntries: 10_000,
  providerZipMaxUncompressedBytes: 4 * 1024 * 1024 * 1024,
  gitTagsCacheSeconds: 60,
});

/** The limits in `config` (the `operator.limits` object, maybe partial) over the defaults. */
export function operatorLimits(config: Partial<OperatorLimits> | undefined): OperatorLimits {
  return { ...DEFAULT_OPERATOR_LIMITS, ...config };
}

/** Per-namespace cap of in-flight keys for a controller of `concurrency` workers. */
export function namespaceCap(limits: Pick<OperatorLimits, 'maxInFlightPerNamespace'>, concurrency: number): number {
  return Math.max(1, Math.min(concurrency, limits.maxInFlightPerNamespace ?? concurrency - 1));
}

/** The condition reason of an error that carries one (the errors below), else undefined. */
export function limitReason(err: unknown): string | undefined {
  const reason = typeof err === 'object' && err !== null ? (err as { conditionReason?: unknown }).conditionReason : undefined;
  return typeof reason === 'string' ? reason : undefined;
}

/** An upstream artefact exceeds a limit: permanent (Stalled, LimitExceeded) until the artefact or the limit changes. */
export class LimitExceededError extends InputError {
  readonly conditionReason = REASONS.LimitExceeded;
  /** The `operator.limits` key that raises the limit. */
  readonly configKey: string;

  constructor(message: string, configKey: string) {
    super(`${message} (limit operator.limits.${configKey})`, { hint: `raise operator.limits.${configKey} if this upstream is trusted` });
    this.name = 'LimitExceededError';
    this.configKey = configKey;
  }
}

/** An upstream body was too slow or idle: transient (retried with backoff), reported as UpstreamTooSlow. */
export class UpstreamTooSlowError extends UnavailableError {
  readonly conditionReason = REASONS.UpstreamTooSlow;

  constructor(message: string) {
    super(message);
    this.name = 'UpstreamTooSlowError';
  }
}

/** A reconcile ran past its deadline: transient (retried with backoff), reported as DeadlineExceeded. */
export class DeadlineExceededError extends UnavailableError {
  readonly conditionReason = REASONS.DeadlineExceeded;

  constructor(seconds: number) {
    super(`the reconcile did not finish within ${seconds} s and was aborted (limit operator.limits.reconcileTimeoutSeconds)`);
    this.name = 'DeadlineExceededError';
  }
}

/** The work of a deleted object was cancelled. */
export class CancelledError extends UnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'CancelledError';
  }
}
