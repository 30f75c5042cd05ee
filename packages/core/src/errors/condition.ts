/**
 * The one mapping from an error to a controller condition: the reason (from the reason table),
 * the message (redacted and bounded), and whether to retry. Every controller uses it.
 */
import { isOpenDepotError, type ErrorCode } from '@opendepot/sdk';
import { REASONS, isReason, type Reason } from '../conditions/reasons.ts';
import { conditionMessage } from '../conditions/message.ts';
import { userMessage } from './user-message.ts';

/** The condition reason of each error code (an upstream's `unavailable` with a retry hint is {@link REASONS.RateLimited}). */
export const CONDITION_REASONS = {
  input: REASONS.InvalidSpec,
  not_found: REASONS.NotFound,
  conflict: REASONS.Conflict,
  unauthenticated: REASONS.Unauthenticated,
  forbidden: REASONS.Forbidden,
  unavailable: REASONS.SourceUnavailable,
  integrity: REASONS.VerificationFailed,
} as const satisfies Record<ErrorCode, Reason>;

/** The reason for errors that are not OpenDepot errors (bugs, unexpected failures). */
export const INTERNAL_ERROR_REASON = REASONS.InternalError;

/** One of the reasons {@link toCondition} returns. */
export type ErrorConditionReason = Reason;

/** What a controller writes into a failure condition, and how it requeues. */
export interface ErrorCondition {
  reason: ErrorConditionReason;
  /** For the condition's `message` (and the Event): user-facing, credentials removed, bounded. */
  message: string;
  /**
   * True: requeue with backoff (the upstream may recover, or it is an unexpected error).
   * False: the spec or the environment must change first; mark the resource Stalled.
   */
  transient: boolean;
  /** The upstream's own hint of when to retry, when it gave one. */
  retryAfterMs?: number;
}

/**
 * Maps an error to a condition. An error may name its own reason (`conditionReason`, e.g. a
 * limit that was hit); unknown errors are `InternalError` and transient: a level-based
 * controller retries with backoff rather than stalling on what may be a passing fault.
 */
export function toCondition(err: unknown): ErrorCondition {
  if (isOpenDepotError(err)) {
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const retryAfterMs = typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
    const own = (err as { conditionReason?: unknown }).conditionReason;
    const reason = typeof own === 'string' && isReason(own) ? own : err.code === 'unavailable' && retryAfterMs !== undefined ? REASONS.RateLimited : CONDITION_REASONS[err.code];
    return { reason, message: conditionMessage(userMessage(err)), transient: err.code === 'unavailable', ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { reason: INTERNAL_ERROR_REASON, message: conditionMessage(`internal error: ${message}`), transient: true };
}
