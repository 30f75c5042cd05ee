/** A small cache with a time-to-live and a bound on its size (the oldest entry goes first). */

/** Counts of what the cache answered, for the hit-rate metric. */
export type CacheOutcome = 'hit' | 'miss';

export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlSeconds: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#maxEntries = Math.max(1, options.maxEntries);
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value of `key`, if any. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs });
  }

  /**
   * The cached value, else `load()`'s (cached when it resolves). Concurrent misses of one key
   * share one load, so a burst of requests makes one API call.
   */
  async through(key: string, load: () => Promise<V>, onOutcome?: (outcome: CacheOutcome) => void): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) {
      onOutcome?.('hit');
      return cached;
    }
    let pending = this.#pending.get(key);
    if (pending !== undefined) {
      onOutcome?.('hit');
      return pending;
    }
    onOutcome?.('miss');
    pending = load().then(
      (value) => {
        this.#pending.delete(key);
        this.set(key, value);
        return value;
      },
      (err: unknown) => {
        this.#pending.delete(key);
        throw err;
      },
    );
    this.#pending.set(key, pending);
    return pending;
  }

  readonly #pending = new Map<string, Promise<V>>();
}
