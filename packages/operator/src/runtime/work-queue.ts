/**
 * A keyed work queue, the heart of a controller:
 * - a key waits at most once (adding a queued key again does nothing);
 * - a key never runs twice at once: re-added while it runs, it runs once more afterwards;
 * - at most `concurrency` keys run at the same time;
 * - a failed key is retried after a capped, jittered exponential backoff that grows per key and
 *   resets when the key succeeds; an error's `retryAfterMs` (a rate limit) is honoured;
 * - `addAfter` schedules a key for later (requeue-after), keeping the earliest of two schedules;
 * - `shutdown` stops taking work and lets running keys finish, aborting them after a grace time;
 * - fair across namespaces (the part of a key before `/`): waiting keys are taken round-robin by
 *   namespace, and one namespace runs at most `maxPerNamespace` keys, so it cannot hold every worker;
 * - every run has a deadline (`timeoutMs`), and `cancel` aborts a running key (its object was deleted).
 */
import { backoffDelay, type BackoffOptions } from '@opendepot/core';

/** What a handler may ask for after a success. */
export interface WorkResult {
  /** Run the key again after this long (periodic work such as re-verification). */
  requeueAfterMs?: number;
}

/** Processes one key; throw to have it retried with backoff. */
export type WorkHandler = (key: string, signal: AbortSignal) => Promise<WorkResult | void>;

/** Observers of the queue, for metrics and logs. */
export interface WorkQueueHooks {
  onSuccess?(key: string, durationMs: number, result: WorkResult | void): void;
  onFailure?(key: string, err: unknown, durationMs: number, retryInMs: number, attempt: number): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  handler: WorkHandler;
  /** Keys run at the same time. Default 4. */
  concurrency?: number;
  /** Per-key retry delays. Default 1 s doubling up to 5 min, ±10 %. */
  backoff?: BackoffOptions;
  hooks?: WorkQueueHooks;
  /** Keys of one namespace running at once. Default: `concurrency` (no cap). */
  maxPerNamespace?: number;
  /** A run is aborted through its signal after this long (then retried with backoff). Default: none. */
  timeoutMs?: number;
  /** The abort reason of a run past its deadline (thrown by a handler that honours its signal). */
  timeoutReason?: () => unknown;
}

/** Options of {@link WorkQueue.shutdown}. */
export interface ShutdownOptions {
  /** Also run the keys already waiting before stopping. Default false: they are dropped. */
  drain?: boolean;
  /** After this long, running handlers are aborted through their signal. Default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 0.2 };

/** A de-duplicating, per-key serial, bounded-concurrency queue with retries. */
export class WorkQueue {
  readonly #handler: WorkHandler;
  readonly #concurrency: number;
  readonly #backoff: BackoffOptions;
  readonly #hooks: WorkQueueHooks;
  /**
   * Keys waiting to run, by namespace; each Set keeps insertion order and de-duplicates, and the
   * Map's order is the round-robin order of namespaces (a served namespace moves to the back).
   */
  readonly #queued = new Map<string, Set<string>>();
  #queuedCount = 0;
  /** Running keys per namespace. */
  readonly #runningPerNamespace = new Map<string, number>();
  /** Running keys whose run was cancelled (not a failure: no backoff). */
  readonly #cancelled = new Set<string>();
  readonly #maxPerNamespace: number;
  readonly #timeoutMs: number | undefined;
  readonly #timeoutReason: () => unknown;
  /** Keys running now, with the abort controller of their handler. */
  readonly #running = new Map<string, AbortController>();
  /** Keys added while they were running: they run once more when they finish. */
  readonly #dirty = new Set<string>();
  /** Keys scheduled for later. */
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Consecutive failures per key. */
  readonly #failures = new Map<string, number>();
  readonly #idleWaiters: (() => void)[] = [];
  #stopping = false;
  #draining = false;

  constructor(options: WorkQueueOptions) {
    this.#handler = options.handler;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#hooks = options.hooks ?? {};
    this.#maxPerNamespace = Math.max(1, Math.min(this.#concurrency, options.maxPerNamespace ?? this.#concurrency));
    this.#timeoutMs = options.timeoutMs;
    this.#timeoutReason = options.timeoutReason ?? (() => new Error(`the work did not finish within ${options.timeoutMs} ms`));
  }

  /** Queues `key` to run as soon as a worker is free. */
  add(key: string): void {
    if (this.#stopping) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    const namespace = namespaceOf(key);
    let keys = this.#queued.get(namespace);
    if (!keys) this.#queued.set(namespace, (keys = new Set()));
    if (!keys.has(key)) {
      keys.add(key);
      this.#queuedCount++;
    }
    this.#pump();
  }

  /**
   * Aborts the running handler of `key` with `reason` (e.g. its object is being deleted), freeing
   * its worker as soon as the handler honours the signal. Not counted as a failure.
   */
  cancel(key: string, reason: unknown): void {
    const controller = this.#running.get(key);
    if (!controller || controller.signal.aborted) return;
    this.#cancelled.add(key);
    controller.abort(reason);
  }

  /** Queues `key` after `delayMs`; an earlier schedule of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#stopping) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /** Keys waiting for a worker (not running, not scheduled for later). */
  get depth(): number {
    return this.#queuedCount;
  }

  /** Keys running now. */
  get active(): number {
    return this.#running.size;
  }

  /** Keys scheduled for later (retries and requeue-after). */
  get scheduled(): number {
    return this.#delayed.size;
  }

  /** Consecutive failures of `key` (0 after a success). */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Resolves when no key is waiting or running (scheduled keys do not count). */
  idle(): Promise<void> {
    if (this.#queuedCount === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops taking work: scheduled keys are dropped, waiting keys too (unless `drain`), and running
   * keys may finish; after `timeoutMs` their signals are aborted. Resolves when none runs.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.#stopping = true;
    this.#draining = options.drain ?? false;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#dirty.clear();
    if (!this.#draining) this.#clearQueued();
    const grace = setTimeout(() => {
      this.#clearQueued();
      for (const controller of this.#running.values()) controller.abort(new Error('work queue shut down'));
    }, options.timeoutMs ?? 30_000);
    await this.idle();
    clearTimeout(grace);
  }

  #clearQueued(): void {
    this.#queued.clear();
    this.#queuedCount = 0;
  }

  /** The next key: from the first namespace in round-robin order that is under its cap. */
  #take(): string | undefined {
    for (const [namespace, keys] of this.#queued) {
      if ((this.#runningPerNamespace.get(namespace) ?? 0) >= this.#maxPerNamespace) continue;
      const key = keys.values().next().value as string;
      keys.delete(key);
      this.#queuedCount--;
      this.#queued.delete(namespace);
      if (keys.size > 0) this.#queued.set(namespace, keys); // to the back of the round
      return key;
    }
    return undefined;
  }

  #pump(): void {
    while (this.#running.size < this.#concurrency && this.#queuedCount > 0) {
      const key = this.#take();
      if (key === undefined) break; // every namespace with waiting keys is at its cap
      void this.#run(key);
    }
    if (this.#queuedCount === 0 && this.#running.size === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  async #run(key: string): Promise<void> {
    const controller = new AbortController();
    this.#running.set(key, controller);
    const namespace = namespaceOf(key);
    this.#runningPerNamespace.set(namespace, (this.#runningPerNamespace.get(namespace) ?? 0) + 1);
    const deadline = this.#timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(this.#timeoutReason()), this.#timeoutMs);
    deadline?.unref();
    // This run decides when the key runs next; an older schedule is obsolete.
    const scheduled = this.#delayed.get(key);
    if (scheduled) {
      clearTimeout(scheduled.timer);
      this.#delayed.delete(key);
    }
    const began = performance.now();
    try {
      const result = await this.#handler(key, controller.signal);
      this.#failures.delete(key);
      this.#hooks.onSuccess?.(key, performance.now() - began, result);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      if (this.#cancelled.has(key)) {
        // Cancelled (its object is going away): run again at once, without a failure or backoff.
        this.#dirty.add(key);
        return;
      }
      const attempt = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, attempt);
      const delay = retryDelay(err, attempt, this.#backoff);
      this.#hooks.onFailure?.(key, err, performance.now() - began, delay, attempt);
      this.addAfter(key, delay);
    } finally {
      clearTimeout(deadline);
      this.#cancelled.delete(key);
      this.#running.delete(key);
      const left = (this.#runningPerNamespace.get(namespace) ?? 1) - 1;
      if (left > 0) this.#runningPerNamespace.set(namespace, left);
      else this.#runningPerNamespace.delete(namespace);
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}

/** The namespace of a `namespace/name` key ('' for a key without one). */
function namespaceOf(key: string): string {
  const at = key.indexOf('/');
  return at < 0 ? '' : key.slice(0, at);
}

/** The wait before retry `attempt`: the error's own `retryAfterMs` when it has one, else backoff. */
export function retryDelay(err: unknown, attempt: number, backoff: BackoffOptions = DEFAULT_BACKOFF): number {
  const hinted = typeof err === 'object' && err !== null ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  const computed = backoffDelay(attempt, backoff);
  if (typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0) {
    // Never sooner than the first backoff step, so a `retryAfterMs: 0` cannot make a hot loop.
    return Math.max(hinted, Math.min(computed, backoff.baseMs ?? DEFAULT_BACKOFF.baseMs!));
  }
  return computed;
}
