/**
 * Bounds on every cost an upstream controls (issue 10 §2): the `operator.limits` configuration,
 * its defaults, and the errors that say which limit was hit and which key raises it.
 */
import { REASONS, type OperatorLimitsConfig } from '@opendepot/core';
import { DEFAULT_PROVIDER_ZIP_LIMITS } from '@opendepot/archive-kit';
import { UnavailableError } from '@opendepot/sdk';

// Errors that carry a condition reason: the upstream limits' (from archive-kit) and the deadline below.
export { limitReason } from '@opendepot/archive-kit';

/** `operator.limits` after defaults: the host configuration's own shape (its schema and docs are in core). */
export type OperatorLimits = OperatorLimitsConfig;

/** The defaults: generous for real upstreams (the AWS provider unzips to under 1 GiB). */
export const DEFAULT_OPERATOR_LIMITS: Readonly<OperatorLimits> = Object.freeze({
  reconcileTimeoutSeconds: 900,
  upstreamIdleTimeoutSeconds: 60,
  upstreamMinBytesPerSecond: 1024,
  providerZipMaxEntries: DEFAULT_PROVIDER_ZIP_LIMITS.maxEntries,
  providerZipMaxUncompressedBytes: DEFAULT_PROVIDER_ZIP_LIMITS.maxUncompressedBytes,
  providerPackageMaxBytes: 4 * 1024 * 1024 * 1024,
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
