/** Watches the process's memory during a transfer, to prove a plugin streams instead of buffering. */

/** Peak growth over the baseline, in bytes. */
export interface MemoryGrowth {
  /** Resident set size: includes native buffers a plugin's client library may hold. */
  rss: number;
  /** `heapUsed + arrayBuffers`: what JavaScript keeps alive. */
  js: number;
  /** How many samples were taken. */
  samples: number;
  /** Whether samples were taken after a forced garbage collection (`--expose-gc`). */
  collected: boolean;
}

/** Samples memory against a baseline taken when it is created. */
export class MemoryWatch {
  readonly #gc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
  readonly #baseline: { rss: number; js: number };
  #peak = { rss: 0, js: 0 };
  #samples = 0;

  /** Takes the baseline: call it just before the transfer starts. */
  constructor() {
    this.#baseline = this.#measure();
  }

  /**
   * Records one sample. With `--expose-gc` it collects garbage first, so what is measured is
   * what the plugin keeps alive, not garbage waiting for the next collection.
   */
  sample(): void {
    const now = this.#measure();
    this.#peak = { rss: Math.max(this.#peak.rss, now.rss - this.#baseline.rss), js: Math.max(this.#peak.js, now.js - this.#baseline.js) };
    this.#samples++;
  }

  /** The peak growth seen so far. */
  growth(): MemoryGrowth {
    return { ...this.#peak, samples: this.#samples, collected: this.#gc !== undefined };
  }

  #measure(): { rss: number; js: number } {
    this.#gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, js: m.heapUsed + m.arrayBuffers };
  }
}
