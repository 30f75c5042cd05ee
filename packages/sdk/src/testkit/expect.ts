/** Assertion helpers whose failures say what the plugin did instead. */
import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { isOpenDepotError, type ErrorCode } from '../errors.ts';

/** Short description of a thrown value, for failure messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code === undefined ? '' : ` [code ${String(code)}]`}: ${err.message}`;
  }
  return inspect(err, { depth: 2, breakLength: Infinity });
}

/** Fails with `message`. */
export function fail(message: string): never {
  throw new AssertionError({ message });
}

/**
 * Awaits `promise`, which must reject with an error accepted by `accept`; returns that error.
 * `expected` completes the failure message: "<what>: expected <expected>, but ...".
 */
export async function expectRejection(promise: Promise<unknown>, accept: (err: unknown) => boolean, what: string, expected: string): Promise<unknown> {
  let outcome: { ok: true; value: unknown } | { ok: false; err: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (err) {
    outcome = { ok: false, err };
  }
  if (outcome.ok) fail(`${what}: expected ${expected}, but it succeeded (${inspect(outcome.value, { depth: 1, breakLength: Infinity })})`);
  if (!accept(outcome.err)) fail(`${what}: expected ${expected}, but it failed with ${describeError(outcome.err)}`);
  return outcome.err;
}

/** Awaits `promise`, which must reject with an OpenDepot error of `code`. */
export function expectCode(promise: Promise<unknown>, code: ErrorCode, what: string): Promise<unknown> {
  return expectRejection(promise, (err) => isOpenDepotError(err, code), what, `an OpenDepot error with code '${code}' (isOpenDepotError(err, '${code}'))`);
}

/** Tells whether `err` reports an abort: an `AbortError`, `ABORT_ERR`, or the signal's reason. */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal !== undefined && err === signal.reason) return true;
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) return false;
  const e = err as { name?: unknown; code?: unknown; cause?: unknown };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return true;
  return signal !== undefined && e.cause !== undefined && e.cause === signal.reason;
}

/** Settles like `promise`, or rejects with an assertion error after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AssertionError({ message: `${what}: did not settle within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits `promise`, turning a rejection into an assertion failure that says what failed. */
export async function expectSuccess<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    fail(`${what}: expected success, but it failed with ${describeError(err)}`);
  }
}
