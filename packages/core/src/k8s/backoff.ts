/** Capped exponential backoff with jitter, shared by informers and the operator's work queue. */

/** Backoff settings. */
export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs?: number;
  /** Ceiling of every delay, jitter included. */
  maxMs?: number;
  /** Relative spread around the nominal delay, 0..1 (0.2 = ±10 %). */
  jitter?: number;
}

const DEFAULTS = { baseMs: 500, maxMs: 60_000, jitter: 0.2 };

/**
 * The delay before retry number `attempt` (1 = after the first failure): `baseMs · 2^(attempt-1)`,
 * spread by `jitter` so that many failing clients do not retry in step, and never above `maxMs`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const baseMs = options.baseMs ?? DEFAULTS.baseMs;
  const maxMs = options.maxMs ?? DEFAULTS.maxMs;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULTS.jitter));
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const nominal = Math.min(maxMs, baseMs * 2 ** exponent);
  const spread = nominal * jitter * (random() - 0.5);
  return Math.max(0, Math.min(maxMs, Math.round(nominal + spread)));
}

/** Counts consecutive failures and hands out the next delay. */
export class Backoff {
  #attempt = 0;
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = {}) {
    this.#options = options;
  }

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    this.#attempt += 1;
    return backoffDelay(this.#attempt, this.#options);
  }

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.#attempt;
  }

  /** Forgets the failures after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits `ms`, or less when `signal` aborts (then resolves, it does not throw). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
