/**
 * One GET over node:https (or node:http when allowed), with a deadline for the headers, the
 * caller's AbortSignal, a few checked redirects, and HTTP statuses mapped to the SDK's errors.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError, isOpenDepotError } from '@opendepot/sdk';

/** How requests are made. */
export interface HttpPolicy {
  /** Accept http:// (the base URL and redirects). */
  allowInsecureHttp: boolean;
  /** Extra CAs (PEM), added to Node's list; undefined: Node's list only. */
  ca: string[] | undefined;
  /** Deadline for the answer's headers, in ms. */
  headersTimeoutMs: number;
}

const MAX_REDIRECTS = 5;

/** GETs `url` and resolves with a 200 answer, its body not yet read; `what` names it in errors. */
export async function get(url: URL, what: string, policy: HttpPolicy, signal?: AbortSignal): Promise<IncomingMessage> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    checkScheme(current, policy, what);
    const response = await send(current, what, policy, signal);
    const status = response.statusCode ?? 0;
    if (status === 200) return response;
    response.resume(); // drain it, so the connection can be reused
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      current = new URL(location, current);
      continue;
    }
    throw statusError(status, response.headers['retry-after'], `${what}: ${current.toString()} answered ${status}`);
  }
  throw new UnavailableError(`${what}: more than ${MAX_REDIRECTS} redirects from ${url.toString()}`);
}

function checkScheme(url: URL, policy: HttpPolicy, what: string): void {
  if (url.username !== '' || url.password !== '') throw new InputError(`${what}: URLs must not carry a user name or password`, { field: 'baseUrl' });
  if (url.protocol === 'https:' || (url.protocol === 'http:' && policy.allowInsecureHttp)) return;
  throw new InputError(`${what}: ${url.protocol}// is refused (${url.host}); only https:// is allowed`, {
    field: 'baseUrl',
    ...(url.protocol === 'http:' ? { hint: 'use an https:// URL, or set allowInsecureHttp: true for a local test server' } : {}),
  });
}

function send(url: URL, what: string, policy: HttpPolicy, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: 'GET',
      headers: { 'user-agent': 'opendepot-source-https-dir', accept: '*/*' },
      ...(policy.ca && url.protocol === 'https:' ? { ca: policy.ca } : {}),
      ...(signal ? { signal } : {}),
    });
    const timer = setTimeout(() => req.destroy(new UnavailableError(`${what}: ${url.toString()} did not answer within ${policy.headersTimeoutMs} ms`)), policy.headersTimeoutMs);
    req.once('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(networkError(err, what, url, signal));
    });
    req.end();
  });
}

/** A failure of the connection as an SDK error; the caller's abort passes through as its reason. */
export function networkError(err: unknown, what: string, url: URL, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (isOpenDepotError(err)) return err;
  const code = (err as { code?: unknown }).code;
  const detail = `${(err as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`;
  const tls = typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|VERIFY|ISSUER/.test(code);
  return new UnavailableError(`${what}: could not reach ${url.toString()}: ${detail}`, {
    cause: err,
    ...(tls ? { hint: 'a certificate from a private CA needs caFile' } : {}),
  });
}

/** The SDK error for an HTTP status other than 200. */
export function statusError(status: number, retryAfterHeader: string | undefined, text: string): Error {
  if (status === 404 || status === 410) return new NotFoundError(text);
  if (status === 401) return new UnauthenticatedError(text, { hint: 'the directory must be readable without credentials' });
  if (status === 403) return new ForbiddenError(text);
  const seconds = Number(retryAfterHeader);
  const retry = retryAfterHeader !== undefined && Number.isFinite(seconds) ? { retryAfterMs: Math.max(0, seconds * 1000) } : {};
  if (status === 429 || status >= 500) return new UnavailableError(text, retry);
  return new UnavailableError(`${text} (unexpected)`);
}
