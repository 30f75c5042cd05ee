/** Translating what the AWS SDK throws into the plugin contract's errors. */
import { ForbiddenError, InputError, isOpenDepotError, NotFoundError, UnauthenticatedError, UnavailableError } from '@opendepot/sdk';

/** The parts of an SDK error this module looks at. */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  $response?: { headers?: Record<string, string | undefined> };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
const UNAUTHENTICATED = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError']);
const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
  'XMinioServerNotInitialized',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** Whether `err` is the SDK's (or Node's) way of saying a request was aborted. */
export function isAbort(err: unknown): boolean {
  const e = shape(err);
  return e.name === 'AbortError' || e.code === 'ABORT_ERR';
}

/** Whether `err` says the object (or, from HEAD, possibly its bucket) does not exist. */
export function isNotFound(err: unknown): boolean {
  const e = shape(err);
  return (typeof e.name === 'string' && NOT_FOUND.has(e.name)) || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket');
}

function retryAfterMs(e: SdkErrorShape): number | undefined {
  const value = e.$response?.headers?.['retry-after'];
  const seconds = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * The contract error for a failed S3 call: `what` says what was attempted (e.g. `get of
 * "a/b.zip"`). Missing objects are `not_found`; the network, 5xx and throttling are
 * `unavailable` (retry later); bad credentials `unauthenticated`; denied access `forbidden`; an
 * aborted call rethrows the signal's reason. OpenDepot errors pass through unchanged.
 */
export function toContractError(err: unknown, what: string, signal?: AbortSignal): unknown {
  if (isOpenDepotError(err)) return err;
  if (signal?.aborted && (isAbort(err) || err === signal.reason)) return signal.reason;
  const e = shape(err);
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = e.$metadata?.httpStatusCode;
  // Answers to HEAD have no body, so the SDK can only call them Unknown.
  const detail =
    name === 'Unknown' || name === 'Forbidden'
      ? `HTTP ${status ?? '?'} (the answer gives no reason)`
      : `${name}${status === undefined ? '' : ` (HTTP ${status})`}${typeof e.message === 'string' && e.message !== '' && e.message !== name ? `: ${e.message}` : ''}`;
  const message = `S3 ${what} failed: ${detail}`;
  const options = { cause: err };
  if (isNotFound(err)) return new NotFoundError(`S3 ${what}: no such object`, options);
  if (name === 'NoSuchBucket') {
    return new UnavailableError(message, { ...options, hint: 'Create the bucket, or correct bucket (and endpoint) in the s3 storage config.' });
  }
  if (UNAUTHENTICATED.has(name)) {
    return new UnauthenticatedError(message, { ...options, hint: 'Check the credentials: credentialsSecretRef, or the ambient AWS credential chain.' });
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return new ForbiddenError(message, {
      ...options,
      hint: 'Check the credentials (credentialsSecretRef, or the ambient AWS credential chain), and that they are granted s3:ListBucket and s3:ListBucketMultipartUploads on the bucket and s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the prefix.',
    });
  }
  if (name === 'InvalidRange' || status === 416) return new InputError(message, { ...options, field: 'range' });
  const code = typeof e.code === 'string' ? e.code : undefined;
  const retryAfter = retryAfterMs(e);
  if (
    THROTTLED.has(name) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    (code !== undefined && NETWORK_CODES.has(code)) ||
    e.$retryable !== undefined ||
    status === undefined // no answer at all: the network, TLS or DNS
  ) {
    return new UnavailableError(message, { ...options, ...(retryAfter !== undefined && { retryAfterMs: retryAfter }) });
  }
  // Any other 4xx is a request S3 will keep refusing (e.g. EntityTooLarge, InvalidArgument).
  return status >= 400 && status < 500 ? new InputError(message, options) : new UnavailableError(message, options);
}
