/**
 * Errors with stable names that cross package boundaries.
 *
 * Plugins, the operator and the server may each load their own copy of this package, so code
 * must never rely on `instanceof` across them: use {@link isOpenDepotError} and the `code`
 * field, which are stable parts of the contract.
 */

/** The stable error codes of the plugin contract. */
export type ErrorCode = 'input' | 'not_found' | 'conflict' | 'unauthenticated' | 'forbidden' | 'unavailable' | 'integrity';

const ERROR_BRAND = Symbol.for('opendepot.error');

/** Options shared by every OpenDepot error. */
export interface OpenDepotErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Dotted path of the offending field, e.g. `spec.moduleConfig.fileFormat`, for input errors. */
  field?: string;
  /** What the user should do about it, shown after the message. */
  hint?: string;
}

/** The base class of every error the contract defines. */
export class OpenDepotError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;
  /** Dotted path of the offending field, when the error is about one. */
  readonly field: string | undefined;
  /** What to do about it. */
  readonly hint: string | undefined;
  /** True when retrying later may succeed. */
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: OpenDepotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.hint = options.hint;
    this.transient = code === 'unavailable';
    Object.defineProperty(this, ERROR_BRAND, { value: true });
  }
}

/** Bad input: a config value, a manifest field, a key. Retrying the same input never helps. */
export class InputError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('input', message, options);
    this.name = 'InputError';
  }
}

/** The object, version or resource does not exist. */
export class NotFoundError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the current state (e.g. an immutable object would change). */
export class ConflictError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('conflict', message, options);
    this.name = 'ConflictError';
  }
}

/** No or invalid credentials were presented. */
export class UnauthenticatedError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('unauthenticated', message, options);
    this.name = 'UnauthenticatedError';
  }
}

/** The credentials are valid but do not allow this. */
export class ForbiddenError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('forbidden', message, options);
    this.name = 'ForbiddenError';
  }
}

/** Options of {@link UnavailableError}. */
export interface UnavailableErrorOptions extends OpenDepotErrorOptions {
  /** When the upstream said to come back (e.g. from `Retry-After` or a rate-limit reset). */
  retryAfterMs?: number;
}

/** A dependency is down, slow or rate limited: retry later with backoff. */
export class UnavailableError extends OpenDepotError {
  /** The upstream's hint of when to retry, if it gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: UnavailableErrorOptions = {}) {
    super('unavailable', message, options);
    this.name = 'UnavailableError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An archive, checksum file or signature failed verification: a bad publisher signature, a
 * checksum that does not match, an unknown signing key. Retrying does not help, and nothing
 * that failed verification may be stored or served.
 */
export class IntegrityError extends OpenDepotError {
  constructor(message: string, options?: OpenDepotErrorOptions) {
    super('integrity', message, options);
    this.name = 'IntegrityError';
  }
}

/**
 * Tells whether `err` is an OpenDepot error (optionally of one code), whichever copy of the SDK
 * created it.
 */
export function isOpenDepotError(err: unknown, code?: ErrorCode): err is OpenDepotError {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as Record<symbol, unknown>)[ERROR_BRAND] !== true) return false;
  return code === undefined || (err as OpenDepotError).code === code;
}
