/**
 * HTTP to provider upstreams: scheme policy, timeouts, size caps, and failures mapped to the
 * contract's errors (down, 5xx and 429 → UnavailableError with the upstream's Retry-After).
 */
import { Buffer } from 'node:buffer';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError, isOpenDepotError } from '@opendepot/sdk';
import { redactUrl } from '../subject.ts';
import { DEFAULT_UPSTREAM_RATE, RateWatch, metered, type UpstreamRate } from '../upstream-rate.ts';

/** How the provider sources talk HTTP. */
export interface HttpPolicy {
  /** Allow `http://` URLs (tests and stand-ins only). */
  allowInsecureHttp: boolean;
  /** Timeout of one JSON or small-file request, and of a download until its headers arrive. */
  requestTimeoutMs: number;
  userAgent: string;
  /** Idle timeout and minimum rate of a download's body (default {@link DEFAULT_UPSTREAM_RATE}). */
  rate?: UpstreamRate;
  /** The fetch requests go through (the egress guard's, which checks every hop); default: the global fetch. */
  fetch?: typeof fetch;
}

/** A response body read whole, with the URL it finally came from (after redirects). */
export interface SmallResponse {
  body: Uint8Array;
  url: URL;
}

/** A download whose body streams. */
export interface OpenedDownload {
  body: AsyncIterable<Uint8Array>;
  /** From `Content-Length`, when the upstream sent one. */
  size: number | undefined;
  url: URL;
  /** Closes the connection when the body will not be read. */
  cancel(): void;
}

/** Caps of the small documents; a provider zip is streamed and never capped here. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;
export const MAX_SHASUMS_BYTES = 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 64 * 1024;

/** Parses `url` and checks its scheme against the policy; `field` names where the URL came from. */
export function checkedUrl(url: string | URL, policy: HttpPolicy, what: string, field?: string): URL {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new InputError(`${what}: "${redactUrl(String(url))}" is not a valid URL`, field ? { field } : {});
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InputError(`${what}: ${redactUrl(parsed.toString())} must not carry a user name or password`, field ? { field } : {});
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && policy.allowInsecureHttp) return parsed;
  throw new InputError(`${what}: ${parsed.toString()} is refused: only https:// URLs are allowed`, {
    ...(field ? { field } : {}),
    ...(parsed.protocol === 'http:' ? { hint: 'http:// is accepted only with allowInsecureHttp, meant for tests' } : {}),
  });
}

/** GETs `url` and reads its body (at most `maxBytes`). 404 → NotFoundError. */
export async function getSmall(url: URL, what: string, policy: HttpPolicy, maxBytes: number, signal?: AbortSignal): Promise<SmallResponse> {
  const timeout = AbortSignal.timeout(policy.requestTimeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const response = await request(url, what, policy, combined, signal);
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new InputError(`${what}: ${redactUrl(url.toString())} answered more than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return { body: Buffer.concat(chunks, size), url: new URL(response.url || url.toString()) };
  } catch (err) {
    throw failure(err, what, url, policy, signal);
  } finally {
    await response.body?.cancel().catch(() => undefined);
  }
}

/** GETs `url` and parses its body as JSON. */
export async function getJson(url: URL, what: string, policy: HttpPolicy, signal?: AbortSignal): Promise<{ body: unknown; url: URL }> {
  const response = await getSmall(url, what, policy, MAX_JSON_BYTES, signal);
  try {
    return { body: JSON.parse(Buffer.from(response.body).toString('utf8')) as unknown, url: response.url };
  } catch (err) {
    throw new UnavailableError(`${what}: ${redactUrl(url.toString())} did not answer JSON`, { cause: err });
  }
}

/**
 * GETs `url` for streaming. The timeout covers the wait for headers; the body may take as long as
 * it needs while it keeps the minimum rate (`policy.rate`), and is cut when it idles or drips.
 */
export async function openDownload(url: URL, what: string, policy: HttpPolicy, signal?: AbortSignal): Promise<OpenedDownload> {
  const headers = new AbortController();
  const timer = setTimeout(() => headers.abort(new DOMException(`no answer within ${policy.requestTimeoutMs} ms`, 'TimeoutError')), policy.requestTimeoutMs);
  const watch = new RateWatch(policy.rate ?? DEFAULT_UPSTREAM_RATE, `${what}: ${redactUrl(url.toString())}`);
  try {
    const combined = AbortSignal.any([...(signal ? [signal] : []), headers.signal, watch.signal]);
    const response = await request(url, what, policy, combined, signal);
    watch.restart();
    // A Content-Length of an encoded (compressed) answer counts other bytes than fetch yields.
    const encoded = (response.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const length = encoded ? Number.NaN : Number(response.headers.get('content-length') ?? Number.NaN);
    const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    return {
      body: metered(errorsMapped(body, what, url, policy, signal), watch),
      size: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      url: new URL(response.url || url.toString()),
      // While the body is being read the stream is locked and its reader cancels it instead.
      cancel: () => {
        watch.stop();
        void body.cancel().catch(() => undefined);
      },
    };
  } catch (err) {
    watch.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function* errorsMapped(body: ReadableStream<Uint8Array>, what: string, url: URL, policy: HttpPolicy, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (err) {
    throw failure(err, what, url, policy, signal);
  }
}

async function request(url: URL, what: string, policy: HttpPolicy, combined: AbortSignal, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    // No credentials: upstream artefacts are public, and a redirect must never carry any.
    response = await (policy.fetch ?? fetch)(url, { headers: { 'user-agent': policy.userAgent, accept: '*/*' }, redirect: 'follow', signal: combined });
  } catch (err) {
    throw failure(err, what, url, policy, signal);
  }
  if (response.status === 200) {
    if (response.url) checkedUrl(response.url, policy, `${what} (after a redirect)`);
    return response;
  }
  await response.body?.cancel().catch(() => undefined);
  throw statusError(response.status, response.headers, `${what}: ${redactUrl(url.toString())} answered ${response.status}`);
}

/** The contract error for an HTTP status other than 200. */
export function statusError(status: number, headers: Headers, text: string): Error {
  if (status === 404 || status === 410) return new NotFoundError(text);
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(headers.get('retry-after'));
    return new UnavailableError(retryAfterMs !== undefined ? `${text}; retry in ${Math.ceil(retryAfterMs / 1000)} s` : text, {
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status === 401) return new UnauthenticatedError(text);
  if (status === 403) return new ForbiddenError(text);
  return new UnavailableError(`${text} (unexpected)`);
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A failure while talking to the upstream, as a contract error (the caller's abort passes through). */
function failure(err: unknown, what: string, url: URL, policy: HttpPolicy, signal?: AbortSignal): unknown {
  if (isOpenDepotError(err)) return err;
  if (signal?.aborted) return signal.reason ?? err;
  const shown = redactUrl(url.toString());
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new UnavailableError(`${what}: ${shown} did not answer within ${policy.requestTimeoutMs} ms`, { cause: err });
  }
  return new UnavailableError(`${what}: could not reach ${shown}: ${networkDetail(err)}`, { cause: err });
}

/** The innermost error code along the cause chain (e.g. ECONNREFUSED), else the message. */
function networkDetail(err: unknown): string {
  let detail = err instanceof Error ? err.message : String(err);
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') detail = `${current.message} (${code})`;
    current = current.cause;
  }
  return detail;
}
