/** Maps what the GCS client throws onto the SDK's errors, so the host can tell what to do. */
import { ConflictError, ForbiddenError, InputError, isOpenDepotError, NotFoundError, UnauthenticatedError, UnavailableError, type OpenDepotError } from '@opendepot/sdk';

/** Network failures worth retrying: the service or the path to it is down or overloaded. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The HTTP status of a client error, wherever the client put it. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const candidate of [e.code, e.status, e.response?.status]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
    if (typeof candidate === 'string' && /^[1-5]\d\d$/.test(candidate)) return Number(candidate);
  }
  return undefined;
}

function networkCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return code;
  }
  return undefined;
}

function retryAfterMsOf(err: unknown): number | undefined {
  const headers = (err as { response?: { headers?: unknown } } | null)?.response?.headers;
  let value: unknown;
  if (headers instanceof Headers) value = headers.get('retry-after');
  else if (typeof headers === 'object' && headers !== null) value = (headers as Record<string, unknown>)['retry-after'];
  const seconds = Number(value);
  return typeof value === 'string' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The first line of the client's message, without anything that looks like a URL query (signatures). */
function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? text).replace(/\?\S*/g, '?…').slice(0, 300);
}

/**
 * An SDK error describing `err` from an operation (`what`, e.g. `stat of "modules/x.zip"`).
 * OpenDepot errors pass through; unknown failures become `UnavailableError` only when they look
 * transient, and are returned unchanged otherwise.
 */
export function toStorageError(err: unknown, what: string): unknown {
  if (isOpenDepotError(err)) return err;
  const status = httpStatusOf(err);
  const detail = messageOf(err);
  const options = { cause: err };
  let mapped: OpenDepotError | undefined;
  if (status === 404) mapped = new NotFoundError(`${what}: not found`, options);
  else if (status === 401) {
    mapped = new UnauthenticatedError(`${what}: GCS refused the credentials (${detail})`, {
      ...options,
      hint: 'Check the service account key in the credentialsSecretRef Secret, or the workload identity binding.',
    });
  } else if (status === 403) {
    mapped = new ForbiddenError(`${what}: the service account may not do this (${detail})`, {
      ...options,
      hint: 'Grant the service account roles/storage.objectUser on the bucket (and roles/iam.serviceAccountTokenCreator on itself for presigned URLs without a key).',
    });
  } else if (status === 409 || status === 412) mapped = new ConflictError(`${what}: ${detail}`, options);
  else if (status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    const retryAfterMs = retryAfterMsOf(err);
    mapped = new UnavailableError(`${what}: GCS answered ${status} (${detail})`, { ...options, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  } else if (status === 400 || status === 416) mapped = new InputError(`${what}: ${detail}`, options);
  else if (networkCodeOf(err) !== undefined) mapped = new UnavailableError(`${what}: GCS is unreachable (${networkCodeOf(err)}: ${detail})`, options);
  return mapped ?? err;
}
