/** Adds context to an error's message while keeping its code, so the mappings still apply. */
import {
  ConflictError,
  IntegrityError,
  ForbiddenError,
  InputError,
  isOpenDepotError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
  type ErrorCode,
  type OpenDepotError,
  type OpenDepotErrorOptions,
} from '@opendepot/sdk';

/** Options of {@link withContext}. */
export interface WithContextOptions {
  /** Replaces the error's field, e.g. to make a plugin's `bucket` into `spec.storageConfig.s3.bucket`. */
  field?: string;
}

/**
 * A new error whose message is `<context>: <original message>`, with the original as `cause`.
 * OpenDepot errors keep their code, hint and `retryAfterMs`; anything else becomes a plain Error.
 */
export function withContext(err: unknown, context: string, options: WithContextOptions = {}): Error {
  if (!isOpenDepotError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new Error(`${context}: ${message}`, { cause: err });
  }
  const message = `${context}: ${err.message}`;
  const shared: OpenDepotErrorOptions = { cause: err, field: options.field ?? err.field, hint: err.hint };
  return make(err.code, message, shared, err);
}

function make(code: ErrorCode, message: string, options: OpenDepotErrorOptions, original: OpenDepotError): OpenDepotError {
  switch (code) {
    case 'input':
      return new InputError(message, options);
    case 'not_found':
      return new NotFoundError(message, options);
    case 'conflict':
      return new ConflictError(message, options);
    case 'unauthenticated':
      return new UnauthenticatedError(message, options);
    case 'forbidden':
      return new ForbiddenError(message, options);
    case 'integrity':
      return new IntegrityError(message, options);
    case 'unavailable': {
      const retryAfterMs = (original as { retryAfterMs?: unknown }).retryAfterMs;
      return new UnavailableError(message, typeof retryAfterMs === 'number' ? { ...options, retryAfterMs } : options);
    }
  }
}
