/** OpenDepot errors as controller conditions: the reason, the message, and whether to retry. */
import { isOpenDepotError, type ErrorCode } from '@opendepot/sdk';
import { redactString } from '../logging/redact.ts';
import { userMessage } from './user-message.ts';

/** Condition reasons (CamelCase, as Kubernetes requires) for each error code. */
export const CONDITION_REASONS = {
  input: 'InvalidInput',
  not_found: 'NotFound',
  conflict: 'Conflict',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  unavailable: 'UpstreamUnavailable',
  integrity: 'VerificationFailed',
} as const satisfies Record<ErrorCode, string>;

/** The reason for errors that are not OpenDepot errors (bugs, unexpected failures). */
export const INTERNAL_ERROR_REASON = 'InternalError';

/** One of the reasons {@link toCondition} returns. */
export type ErrorConditionReason = (typeof CONDITION_REASONS)[ErrorCode] | typeof INTERNAL_ERROR_REASON;

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

/** Longest condition message; the API server allows 32768, but a condition is read by people. */
export const MAX_CONDITION_MESSAGE = 1024;

/**
 * Maps an error to a condition. Unknown errors are `InternalError` and transient: a level-based
 * controller retries with backoff rather than stalling on what may be a passing fault.
 */
export function toCondition(err: unknown): ErrorCondition {
  if (isOpenDepotError(err)) {
    const condition: ErrorCondition = {
      reason: CONDITION_REASONS[err.code],
      message: bounded(userMessage(err)),
      transient: err.code === 'unavailable',
    };
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) condition.retryAfterMs = ms;
    return condition;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { reason: INTERNAL_ERROR_REASON, message: bounded(redactString(`internal error: ${message}`)), transient: true };
}

function bounded(message: string): string {
  return message.length <= MAX_CONDITION_MESSAGE ? message : `${message.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;
}
