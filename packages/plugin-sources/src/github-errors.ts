/** GitHub API failures → the contract's errors, with rate-limit hints for the operator's queue. */
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError, isOpenDepotError } from '@opendepot/sdk';

/** The parts of an octokit RequestError this module reads. */
interface RequestErrorLike extends Error {
  status: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function isRequestError(err: unknown): err is RequestErrorLike {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** The HTTP status of an octokit error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return isRequestError(err) ? err.status : undefined;
}

/**
 * How long GitHub asked us to wait: `retry-after` (seconds), else `x-ratelimit-reset` (epoch
 * seconds) when `x-ratelimit-remaining` is 0. Undefined when the answer is not a rate limit.
 */
export function rateLimitWaitMs(headers: Record<string, string | number | undefined> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    // One second past the reset, as GitHub advises.
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - now + 1000) : 60_000;
  }
  return undefined;
}

/**
 * Maps a failure of a GitHub call about `what` (e.g. `releases of acme/vpc`) to a contract error.
 * Messages carry GitHub's own message but never request headers or URLs with credentials.
 */
export function githubError(err: unknown, what: string, signal?: AbortSignal): unknown {
  if (isOpenDepotError(err)) return err;
  if (signal?.aborted) return signal.reason ?? err;
  // A refusal of the egress policy, wrapped by octokit as a status-500 RequestError.
  if (isOpenDepotError(err instanceof Error ? err.cause : undefined)) return (err as Error).cause;
  if (!isRequestError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new UnavailableError(`calling GitHub for ${what} failed: ${message}`, { cause: err });
  }
  if (!err.response) {
    // No answer at all (connection refused, DNS, TLS, timeout): octokit reports these as status 500.
    return new UnavailableError(`could not reach GitHub for ${what}: ${networkDetail(err)}`, { cause: err });
  }
  const status = err.status;
  const headers = err.response.headers;
  const said = githubMessage(err);
  const text = `GitHub answered ${status}${said ? ` ("${said}")` : ''} for ${what}`;
  const waitMs = rateLimitWaitMs(headers);
  if ((status === 403 || status === 429) && (waitMs !== undefined || /rate limit/i.test(said))) {
    return new UnavailableError(`${text}: rate limited${waitMs !== undefined ? `, retry in ${Math.ceil(waitMs / 1000)} s` : ''}`, {
      cause: err,
      retryAfterMs: waitMs ?? 60_000,
    });
  }
  if (status === 429 || status >= 500) return new UnavailableError(text, { cause: err, ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}) });
  if (status === 404) return new NotFoundError(text, { cause: err });
  if (status === 401) return new UnauthenticatedError(`${text}: check the GitHub credentials in the Secret named by githubClientConfig.secretRef`, { cause: err });
  if (status === 403) return new ForbiddenError(text, { cause: err });
  return new InputError(text, { cause: err });
}

/** The innermost error code along the cause chain (e.g. ECONNREFUSED), else the message. */
function networkDetail(err: Error): string {
  let detail = err.message;
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') detail = `${current.message} (${code})`;
    current = current.cause;
  }
  return detail;
}

function githubMessage(err: RequestErrorLike): string {
  const data = err.response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message.slice(0, 300);
  }
  return '';
}
