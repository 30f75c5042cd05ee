/**
 * API-server failures as the SDK's errors, so callers branch on stable codes (`not_found`,
 * `conflict`, `unavailable`, ...) instead of HTTP statuses. The raw answer stays reachable as the
 * error's `cause`, a {@link KubeApiError}.
 */
import { ConflictError, ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError, type OpenDepotError } from '@opendepot/sdk';

/** The `Status` object the API server answers failures with (the fields read here). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  /** Machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, `Gone`, ... */
  reason?: string;
  code?: number;
  details?: { retryAfterSeconds?: number; causes?: { field?: string; message?: string; reason?: string }[] };
}

/** One failed API-server exchange: the HTTP status, the Kubernetes `Status` and what was asked. */
export class KubeApiError extends Error {
  /** HTTP status; 0 when no answer arrived (network error, timeout). */
  readonly status: number;
  /** `Status.reason`, e.g. `AlreadyExists`. */
  readonly reason: string | undefined;
  /** `METHOD path` of the request. */
  readonly request: string;
  /** From `Retry-After` or `Status.details.retryAfterSeconds`. */
  readonly retryAfterMs: number | undefined;

  constructor(request: string, status: number, body: KubeStatus | undefined, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KubeApiError';
    this.request = request;
    this.status = status;
    this.reason = body?.reason;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Reads a `Retry-After` header (seconds) or the Status' `retryAfterSeconds`, in ms. */
export function retryAfterMsOf(header: string | undefined, body: KubeStatus | undefined): number | undefined {
  const seconds = header !== undefined && /^\d+$/.test(header.trim()) ? Number(header) : body?.details?.retryAfterSeconds;
  return seconds === undefined ? undefined : seconds * 1000;
}

/**
 * Turns an API failure into the SDK error of its kind: 400/422 → InputError, 401 →
 * UnauthenticatedError, 403 → ForbiddenError, 404 → NotFoundError, 409/410 → ConflictError,
 * anything else (429, 5xx, no answer) → UnavailableError, which the work queue retries.
 */
export function toSdkError(err: KubeApiError): OpenDepotError {
  const options = { cause: err };
  const message = err.message;
  switch (err.status) {
    case 400:
    case 422:
      return new InputError(message, options);
    case 401:
      return new UnauthenticatedError(message, options);
    case 403:
      return new ForbiddenError(message, options);
    case 404:
      return new NotFoundError(message, options);
    case 409:
    case 410:
      return new ConflictError(message, options);
    default:
      return new UnavailableError(message, err.retryAfterMs === undefined ? options : { ...options, retryAfterMs: err.retryAfterMs });
  }
}

/** The {@link KubeApiError} behind an error this layer threw, if any. */
export function kubeApiErrorOf(err: unknown): KubeApiError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof KubeApiError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The Kubernetes `Status.reason` behind an error (`AlreadyExists`, `Conflict`, `Expired`, ...). */
export function kubeReasonOf(err: unknown): string | undefined {
  return kubeApiErrorOf(err)?.reason;
}

/** The HTTP status behind an error of this layer; 0 for no answer, undefined for other errors. */
export function kubeStatusOf(err: unknown): number | undefined {
  return kubeApiErrorOf(err)?.status;
}

/** True for `409 AlreadyExists` (a create of an existing name). */
export function isAlreadyExists(err: unknown): boolean {
  return kubeReasonOf(err) === 'AlreadyExists';
}

/** True for `409 Conflict` on a stale resourceVersion (an optimistic-concurrency loss). */
export function isConflict(err: unknown): boolean {
  const e = kubeApiErrorOf(err);
  return e?.status === 409 && e.reason !== 'AlreadyExists';
}

/** True for `404`. */
export function isNotFound(err: unknown): boolean {
  return kubeStatusOf(err) === 404;
}

/** True for `410 Gone`: a resourceVersion or continue token too old to serve. */
export function isGone(err: unknown): boolean {
  const e = kubeApiErrorOf(err);
  return e?.status === 410 || e?.reason === 'Expired' || e?.reason === 'Gone';
}
