/** OpenDepot errors as HTTP responses: the one mapping the server's error middleware uses. */
import { isOpenDepotError, type ErrorCode } from '@opendepot/sdk';
import { userMessage } from './user-message.ts';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  // The upstream (or our storage) gave bytes that do not verify: a bad gateway, not a bad request.
  integrity: 502,
};

/** Seconds a 503 tells the client to wait when the error does not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** What the server sends for an error; `body` is the registry protocol's error shape. */
export interface HttpError {
  status: number;
  body: { errors: string[] };
  /** Extra response headers, e.g. `retry-after` on a 503. */
  headers: Record<string, string>;
  /** Set on 503: when to retry, in whole seconds (also in `headers['retry-after']`). */
  retryAfterSeconds?: number;
}

/**
 * The HTTP status for an error: input 400, unauthenticated 401, forbidden 403, not_found 404,
 * conflict 409, unavailable 503, anything else 500.
 */
export function httpStatusOf(err: unknown): number {
  return isOpenDepotError(err) ? STATUS[err.code] : 500;
}

/**
 * The response for an error. OpenDepot errors carry their message (and hint), which are written
 * for users; anything else becomes a 500 with a generic message: log the error itself, never
 * send it.
 */
export function toHttpError(err: unknown): HttpError {
  if (!isOpenDepotError(err)) {
    return { status: 500, body: { errors: ['internal server error'] }, headers: {} };
  }
  const status = STATUS[err.code];
  const response: HttpError = { status, body: { errors: [userMessage(err)] }, headers: {} };
  // RFC 9110 §11.6.1: a 401 names the scheme the client should use.
  if (err.code === 'unauthenticated') response.headers['www-authenticate'] = 'Bearer';
  if (err.code === 'unavailable') {
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const seconds = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : DEFAULT_RETRY_AFTER_SECONDS;
    response.retryAfterSeconds = seconds;
    response.headers['retry-after'] = String(seconds);
  }
  return response;
}
