/** Turns HTTP answers and request failures into the contract's errors. */
import { ForbiddenError, isOpenDepotError, UnauthenticatedError, UnavailableError } from '@opendepot/sdk';

/** Thrown by a request whose time limit ran out; mapped to an `UnavailableError`. */
export class RequestTimeout extends Error {
  readonly ms: number;

  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.ms = ms;
    this.name = 'RequestTimeout';
  }
}

/** The parts of an HTTP answer {@link statusError} looks at. */
export interface Answer {
  status: number;
  statusText: string;
  retryAfter?: string | undefined;
}

/**
 * The error for an answer the caller did not expect: 401 and 403 keep their meaning, 408, 425,
 * 429 and 5xx (507 Insufficient Storage too) are worth retrying, anything else is a plain
 * `Error` (a server this plugin does not understand).
 */
export function statusError(answer: Answer, what: string): Error {
  const { status } = answer;
  const message = `the WebDAV server answered ${status} ${answer.statusText} to ${what}`;
  if (status === 401) return new UnauthenticatedError(message, { field: 'username', hint: 'Check username and the password in passwordSecretRef.' });
  if (status === 403) return new ForbiddenError(message, { hint: 'The WebDAV account must be allowed to read, write, create collections, move and delete under url.' });
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(answer.retryAfter);
    return new UnavailableError(message, retryAfterMs === undefined ? {} : { retryAfterMs });
  }
  return new Error(message);
}

/**
 * The error for a request that did not get an answer. The caller's own abort passes through as
 * the signal's reason, and the contract's errors (e.g. from the request body) pass unchanged;
 * anything else went wrong on the way (refused, reset, timed out) and is worth retrying.
 */
export function requestError(err: unknown, what: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (isOpenDepotError(err)) return err;
  if (err instanceof RequestTimeout) return new UnavailableError(`the WebDAV server sent no answer to ${what} within ${err.ms / 1000} s`, { cause: err });
  const detail = err instanceof Error ? `${err.message}${typeof (err as NodeJS.ErrnoException).code === 'string' ? ` (${(err as NodeJS.ErrnoException).code})` : ''}` : String(err);
  return new UnavailableError(`cannot reach the WebDAV server for ${what}: ${detail}`, { cause: err });
}

function retryAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
