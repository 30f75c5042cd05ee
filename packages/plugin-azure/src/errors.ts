/** Maps Azure SDK failures onto the contract's error codes. */
import { ConflictError, ForbiddenError, InputError, isOpenDepotError, NotFoundError, UnauthenticatedError, UnavailableError } from '@opendepot/sdk';

/** The operation that failed, for messages and for the codes that depend on it. */
export type Operation = 'put' | 'get' | 'stat' | 'delete' | 'presign';

/** What an error is about. */
export interface ErrorSubject {
  operation: Operation;
  key: string;
  container: string;
  signal?: AbortSignal | undefined;
}

/** The parts of an Azure `RestError` (or an `@azure/identity` error) this module reads. */
interface AzureErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  details?: { errorCode?: unknown } | undefined;
  response?: { headers?: { get(name: string): string | undefined } } | undefined;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Error codes that mean the credentials themselves were not accepted. */
const AUTHENTICATION_CODES = new Set(['AuthenticationFailed', 'InvalidAuthenticationInfo', 'NoAuthenticationInformation']);

/** The service's error code (`BlobNotFound`, `InvalidBlockList`, ...), from the body or the header (HEAD has no body). */
export function azureErrorCode(err: unknown): string | undefined {
  const e = (err ?? {}) as AzureErrorShape;
  const fromDetails = e.details?.errorCode;
  if (typeof fromDetails === 'string') return fromDetails;
  const fromHeader = e.response?.headers?.get('x-ms-error-code');
  if (fromHeader) return fromHeader;
  return typeof e.code === 'string' && /^[A-Z]/.test(e.code) ? e.code : undefined;
}

/** The HTTP status of an Azure SDK error, if it got an answer. */
export function statusOf(err: unknown): number | undefined {
  const status = ((err ?? {}) as AzureErrorShape).statusCode;
  return typeof status === 'number' ? status : undefined;
}

function retryAfterMs(err: unknown): number | undefined {
  const header = ((err ?? {}) as AzureErrorShape).response?.headers?.get('retry-after');
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function short(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}

/**
 * Translates `err` from an operation on `subject.key`: an abort becomes the signal's reason;
 * missing blobs `not_found`; network failures, throttling and 5xx `unavailable`; a commit whose
 * blocks another writer's commit discarded `conflict`; credential problems `unauthenticated` or
 * `forbidden`. Anything else is returned as it is.
 */
export function toStorageError(err: unknown, subject: ErrorSubject): unknown {
  const { operation, key, container, signal } = subject;
  if (signal?.aborted) return signal.reason;
  if (isOpenDepotError(err)) return err;
  const name = ((err ?? {}) as AzureErrorShape).name;
  const status = statusOf(err);
  const code = azureErrorCode(err);
  const what = `${operation} ${key} in container ${container}`;

  if (name === 'AbortError') return err;
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return new UnauthenticatedError(`${what}: no Azure credential could be obtained: ${short(err)}`, {
      cause: err,
      hint: 'Reference a Secret with credentialsSecretRef, or set up workload identity (or a managed identity) for the pod.',
    });
  }
  if (name === 'RestError' && status === undefined) {
    return new UnavailableError(`${what}: the storage account cannot be reached: ${short(err)}`, { cause: err });
  }
  if (status === undefined) return err;

  if (status === 404) {
    if (operation === 'put' && code === 'ContainerNotFound') {
      return new UnavailableError(`${what}: the container does not exist`, {
        cause: err,
        hint: `Create the container ${container} in the storage account (the plugin does not create it).`,
      });
    }
    const why = code === 'ContainerNotFound' ? ` (the container ${container} does not exist)` : '';
    return new NotFoundError(`no object stored under ${key}${why}`, { cause: err });
  }
  if (TRANSIENT_STATUS.has(status)) {
    const after = retryAfterMs(err);
    return new UnavailableError(`${what}: the storage service answered ${status}${code ? ` ${code}` : ''}`, {
      cause: err,
      ...(after === undefined ? {} : { retryAfterMs: after }),
    });
  }
  if (status === 400 && code === 'InvalidBlockList' && operation === 'put') {
    // Committing a block list discards every other uncommitted block of the blob.
    return new ConflictError(`${what}: another writer committed the blob while this upload was in progress`, { cause: err });
  }
  if (status === 416) return new InputError(`${what}: the range starts past the end of the object`, { cause: err, field: 'range' });
  if (status === 401 || (code !== undefined && AUTHENTICATION_CODES.has(code))) {
    return new UnauthenticatedError(`${what}: the storage account refused the credentials (${code ?? status})`, {
      cause: err,
      hint: 'Check the account key, connection string or service principal in the referenced Secret.',
    });
  }
  if (status === 403) {
    return new ForbiddenError(`${what}: the credentials are not allowed to do this (${code ?? status})`, {
      cause: err,
      hint: 'Grant the identity the Storage Blob Data Contributor role on the container (the operator), Reader (the server), and Storage Blob Delegator for pre-signed URLs.',
    });
  }
  if (status === 409 || status === 412) return new ConflictError(`${what}: ${code ?? status}`, { cause: err });
  return err;
}
