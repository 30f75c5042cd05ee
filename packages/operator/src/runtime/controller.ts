/**
 * A controller: changes seen by informers become keys (`namespace/name`) in a work queue, and a
 * reconcile function brings one key's world in line with its spec. Secondary informers map their
 * objects to the keys of the objects that own them (a Version change wakes its Module).
 * Reconcile is level-based: it gets a key, not an event, and reads current state from the caches.
 */
import { isDeepStrictEqual } from 'node:util';
import { keyOf, objectKey, silentLogger, type BackoffOptions, type Informer, type KubeLogger, type KubeObject } from '@opendepot/core';
import { CancelledError } from '../limits.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { WorkQueue, type ShutdownOptions, type WorkResult } from './work-queue.ts';

/** What a reconcile may return: nothing, or when to run again. */
export type ReconcileResult = WorkResult;

/** Brings the object of `key` in line; throw to retry with backoff. */
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

/** A secondary informer and how its objects map to keys of the controller's kind. */
export interface SecondaryWatch<S extends KubeObject = KubeObject> {
  informer: Informer<S>;
  /** Keys of the primary objects to reconcile when `obj` changes. */
  map(obj: S): string[];
}

/** Options of {@link Controller}. */
export interface ControllerOptions<T extends KubeObject> {
  /** Name in logs and metrics, e.g. `version`. */
  name: string;
  /** The primary kind. */
  informer: Informer<T>;
  reconcile: Reconcile;
  watches?: SecondaryWatch[];
  /**
   * Which updates of the primary kind enqueue. Default: all but status-only changes (our own
   * status writes), plus informer resyncs.
   */
  updatePredicate?: (obj: T, old: T) => boolean;
  concurrency?: number;
  /** Keys of one namespace reconciled at once (see {@link WorkQueue}). Default: no cap. */
  maxPerNamespace?: number;
  /** Deadline of one reconcile; past it the reconcile's signal aborts with `timeoutReason()`. */
  timeoutMs?: number;
  timeoutReason?: () => unknown;
  backoff?: BackoffOptions;
  metrics?: RuntimeMetrics;
  logger?: KubeLogger;
}

/**
 * True unless only the status (or server bookkeeping) changed: a new generation, labels,
 * annotations, finalizers, owners or a deletion request count, and so does an informer resync
 * (`obj === old`).
 */
export function specOrMetadataChanged(obj: KubeObject, old: KubeObject): boolean {
  if (obj === old) return true;
  const a = obj.metadata;
  const b = old.metadata;
  if (a.generation === undefined || b.generation === undefined) {
    if (!isDeepStrictEqual(obj.spec, old.spec)) return true;
  } else if (a.generation !== b.generation) {
    return true;
  }
  return (
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.labels, b.labels) ||
    !isDeepStrictEqual(a.annotations, b.annotations) ||
    !isDeepStrictEqual(a.finalizers, b.finalizers) ||
    !isDeepStrictEqual(a.ownerReferences, b.ownerReferences)
  );
}

/** A mapping for {@link SecondaryWatch}: the keys of the owners of kind `kind` (same namespace). */
export function ownerKeys(kind: string): (obj: KubeObject) => string[] {
  return (obj) => (obj.metadata.ownerReferences ?? []).filter((o) => o.kind === kind).map((o) => keyOf(obj.metadata.namespace, o.name));
}

/** Wires informers to a work queue and a reconcile function. */
export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions<T>;
  readonly #log: KubeLogger;
  #unsubscribe: (() => void)[] = [];
  #started = false;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    const metrics = options.metrics;
    const controller = options.name;
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      backoff: options.backoff,
      ...(options.maxPerNamespace !== undefined && { maxPerNamespace: options.maxPerNamespace }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.timeoutReason && { timeoutReason: options.timeoutReason }),
      handler: (key, signal) => options.reconcile(key, signal),
      hooks: {
        onSuccess: (key, ms, result) => {
          metrics?.reconcileTotal.inc({ controller, result: result?.requeueAfterMs !== undefined ? 'requeue_after' : 'success' });
          metrics?.reconcileDuration.observe({ controller }, ms / 1000);
          this.#log.debug({ controller, key, ms: Math.round(ms) }, 'reconciled');
        },
        onFailure: (key, err, ms, retryInMs, attempt) => {
          metrics?.reconcileTotal.inc({ controller, result: 'error' });
          metrics?.reconcileErrors.inc({ controller });
          metrics?.reconcileDuration.observe({ controller }, ms / 1000);
          this.#log.warn({ controller, key, attempt, retryInMs, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed');
        },
      },
    });
    metrics?.trackQueue(
      controller,
      () => this.queue.depth,
      () => this.queue.active,
    );
  }

  /**
   * Starts the informers (if not yet), waits for their first list, subscribes to changes and
   * queues every cached primary object once, so nothing that changed while this replica was not
   * leading is missed.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { informer, watches = [] } = this.#options;
    await Promise.all([informer.start(), ...watches.map((w) => w.informer.start())]);
    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    // Work for an object being deleted is pointless (a dripping upstream would hold a worker):
    // abort it, and the key runs again at once to finalize.
    const cancel = (obj: KubeObject) => this.queue.cancel(objectKey(obj), new CancelledError(`${obj.kind ?? 'object'} ${objectKey(obj)} is being deleted`));
    const predicate = this.#options.updatePredicate ?? specOrMetadataChanged;
    this.#unsubscribe.push(
      informer.on('add', enqueue),
      informer.on('update', (obj, old) => {
        if (obj.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp) cancel(obj);
        if (old === undefined || predicate(obj, old)) enqueue(obj);
      }),
      informer.on('delete', (obj) => {
        cancel(obj);
        enqueue(obj);
      }),
    );
    for (const watch of watches) {
      const mapped = (obj: KubeObject) => {
        for (const key of watch.map(obj)) this.queue.add(key);
      };
      this.#unsubscribe.push(watch.informer.on('add', mapped), watch.informer.on('update', mapped), watch.informer.on('delete', mapped));
    }
    for (const obj of informer.list()) enqueue(obj);
    this.#log.info({ controller: this.name, objects: informer.list().length }, 'controller started');
  }

  /** Queues a key now. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Stops reacting to changes and shuts the queue down (running reconciles may finish). Informers
   * keep running. A stopped controller does not start again: make a new one.
   */
  async stop(options?: ShutdownOptions): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.queue.shutdown(options);
    this.#log.info({ controller: this.name }, 'controller stopped');
  }
}
