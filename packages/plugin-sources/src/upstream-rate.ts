/**
 * An idle timeout and a minimum rate for upstream response bodies: an upstream that sends one
 * byte every 10 s must not hold a worker for hours. A {@link RateWatch} aborts its signal (give it
 * to the request, so the connection is torn down) when the body idles for the timeout, or when a
 * whole window of that length brought fewer than `minBytesPerSecond` bytes per second.
 */
import { UpstreamTooSlowError } from '@opendepot/archive-kit';

/** How slow an upstream body may be. */
export interface UpstreamRate {
  /** No byte for this long cuts the body; also the length of the window the rate is averaged over. */
  idleTimeoutMs: number;
  /** Fewer bytes per second than this, averaged over one window, cut the body. */
  minBytesPerSecond: number;
}

/** Defaults of `operator.limits.upstreamIdleTimeoutSeconds` and `upstreamMinBytesPerSecond`. */
export const DEFAULT_UPSTREAM_RATE: Readonly<UpstreamRate> = Object.freeze({ idleTimeoutMs: 60_000, minBytesPerSecond: 1024 });

/** Watches one body. Call {@link RateWatch.stop} when it is done (or use {@link metered}). */
export class RateWatch {
  readonly #controller = new AbortController();
  readonly #rate: UpstreamRate;
  readonly #what: string;
  readonly #timer: NodeJS.Timeout;
  #windowStart = Date.now();
  #windowBytes = 0;
  #lastByte = Date.now();

  constructor(rate: UpstreamRate, what: string) {
    this.#rate = rate;
    this.#what = what;
    this.#timer = setInterval(() => this.#check(), Math.max(50, Math.min(1000, rate.idleTimeoutMs / 4)));
    this.#timer.unref();
  }

  /** Aborted (with an {@link UpstreamTooSlowError}) when the body is too slow. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the clocks again, e.g. once the response headers have arrived. */
  restart(): void {
    this.#windowStart = this.#lastByte = Date.now();
    this.#windowBytes = 0;
  }

  /** Records bytes that arrived. */
  count(bytes: number): void {
    this.#lastByte = Date.now();
    this.#windowBytes += bytes;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const now = Date.now();
    const { idleTimeoutMs, minBytesPerSecond } = this.#rate;
    if (now - this.#lastByte >= idleTimeoutMs) {
      return this.#abort(`${this.#what}: the upstream sent nothing for ${Math.round((now - this.#lastByte) / 1000)} s (limit operator.limits.upstreamIdleTimeoutSeconds)`);
    }
    const elapsed = now - this.#windowStart;
    if (elapsed < idleTimeoutMs) return;
    const perSecond = (this.#windowBytes * 1000) / elapsed;
    if (perSecond < minBytesPerSecond) {
      return this.#abort(
        `${this.#what}: the upstream sent ${this.#windowBytes} bytes in ${Math.round(elapsed / 1000)} s, slower than ${minBytesPerSecond} bytes/s (limit operator.limits.upstreamMinBytesPerSecond)`,
      );
    }
    this.#windowStart = now;
    this.#windowBytes = 0;
  }

  #abort(message: string): void {
    this.stop();
    this.#controller.abort(new UpstreamTooSlowError(message));
  }
}

/**
 * Passes `body` through, counting into `watch`; throws the watch's error once it has cut the
 * body (the request must also have the watch's signal, so that a pending read ends too).
 */
export async function* metered(body: AsyncIterable<Uint8Array>, watch: RateWatch): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      watch.signal.throwIfAborted();
      watch.count(chunk.byteLength);
      yield chunk;
    }
    watch.signal.throwIfAborted();
  } catch (err) {
    // A read aborted by the watch surfaces as an AbortError of the fetch: report why.
    if (watch.signal.aborted) throw watch.signal.reason;
    throw err;
  } finally {
    watch.stop();
  }
}
