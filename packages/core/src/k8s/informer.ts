/**
 * A list + watch cache of one kind, kept current without help:
 * - it lists, then watches from the list's resourceVersion with bookmarks, so a restarted watch
 *   resumes where it stopped without replaying or missing anything;
 * - a failed list or watch is retried with jittered exponential backoff;
 * - `410 Gone` (the resourceVersion left the server's window; as an HTTP status or as an ERROR
 *   event in the stream) leads to a relist whose differences with the cache are emitted as
 *   add/update/delete, so handlers never miss a change;
 * - a watchdog restarts a watch that has been silent for too long (a half-open connection);
 * - reads (`list`, `get`) come from memory and never call the API server.
 */
import { randomInt } from 'node:crypto';
import { Backoff, sleep, type BackoffOptions } from './backoff.ts';
import type { KubeClient } from './client.ts';
import { resourceClient } from './crud.ts';
import { KubeApiError, isGone, kubeStatusOf, toSdkError, type KubeStatus } from './errors.ts';
import { keyOf, objectKey, resourcePath } from './resources.ts';
import { silentLogger, type Informer, type InformerEvent, type KubeLogger, type KubeObject, type ResourceRef } from './types.ts';

/** Options of {@link createInformer}. */
export interface InformerOptions<T extends KubeObject> {
  /** Watch one namespace; all namespaces when unset. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Emits `update(obj, obj)` for every cached object at this interval, for periodic re-reconciles. Off when unset or 0. */
  resyncMs?: number;
  /** The server ends each watch after this long (then it is resumed); random in 240..360 s by default. */
  watchTimeoutSeconds?: number;
  /**
   * Restarts a watch that delivered nothing, not even a bookmark, for this long. Default: the
   * watch's own `timeoutSeconds` plus 30 s, because an idle kube-apiserver may send nothing at all
   * until it ends the watch at that timeout; a watch still open past it is a dead connection.
   */
  silenceTimeoutMs?: number;
  /** Delays between failed attempts. Default 500 ms doubling up to 30 s, ±10 %. */
  backoff?: BackoffOptions;
  /** Objects per page of the (re)list; default the list's own (500); 0 lists all in one answer. */
  listPageSize?: number;
  /**
   * Fill the cache with the API server's streaming list (a watch with `sendInitialEvents`, served
   * from its watch cache, objects arriving one at a time) instead of a list. Falls back to the
   * list when the API server refuses it (its WatchList feature off, the default up to v1.33 at least).
   */
  streamingList?: boolean;
  /** Shapes each object before it is cached; by default drops `metadata.managedFields`. */
  transform?: (obj: T) => T;
  logger?: KubeLogger;
  /** Called with every list or watch failure (they are retried on their own). */
  onError?: (err: unknown) => void;
}

type Handler<T> = (obj: T, old?: T) => void;

/** Why one watch ended. */
type WatchEnd = { kind: 'closed'; events: number } | { kind: 'expired' } | { kind: 'silent'; silenceMs: number } | { kind: 'stopped' };

/** The annotation of the bookmark that ends a streaming list's initial events. */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** How long past its own timeout a watch may stay open before it is judged a dead connection. */
const SILENCE_GRACE_MS = 30_000;
const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, jitter: 0.2 };
/** A watch that ends sooner than this without an event counts as a failure (no hot reconnect loop). */
const MIN_HEALTHY_WATCH_MS = 1_000;

function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (!('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata as T['metadata'] & { managedFields?: unknown };
  return { ...obj, metadata };
}

/**
 * Creates an informer of kind `ref`; call `start()` to fill it. The objects it hands out are the
 * cached ones, shared by every reader: treat them as read-only.
 */
export function createInformer<T extends KubeObject>(client: KubeClient, ref: ResourceRef, options: InformerOptions<T> = {}): Informer<T> {
  return new ListWatchInformer<T>(client, ref, options);
}

class ListWatchInformer<T extends KubeObject> implements Informer<T> {
  readonly #client: KubeClient;
  readonly #ref: ResourceRef;
  readonly #options: InformerOptions<T>;
  readonly #log: KubeLogger;
  readonly #transform: (obj: T) => T;
  readonly #cache = new Map<string, T>();
  readonly #handlers: Record<InformerEvent, Set<Handler<T>>> = { add: new Set(), update: new Set(), delete: new Set() };
  #resourceVersion = '';
  #synced = false;
  #abort: AbortController | undefined;
  #started: Promise<void> | undefined;
  #markStarted: (() => void) | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  /** Keys seen while a streaming list sends its initial events; undefined otherwise. */
  #initialKeys: Set<string> | undefined;
  /** False once the API server refused a streaming list: list instead. */
  #streamingList: boolean;

  constructor(client: KubeClient, ref: ResourceRef, options: InformerOptions<T>) {
    this.#client = client;
    this.#ref = ref;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#transform = options.transform ?? stripManagedFields;
    this.#streamingList = options.streamingList === true;
  }

  start(): Promise<void> {
    if (this.#started) return this.#started;
    this.#abort = new AbortController();
    this.#started = new Promise<void>((resolve) => (this.#markStarted = resolve));
    void this.#run(this.#abort.signal);
    if (this.#options.resyncMs) {
      this.#resyncTimer = setInterval(() => this.#resync(), this.#options.resyncMs);
      this.#resyncTimer.unref();
    }
    return this.#started;
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
    clearInterval(this.#resyncTimer);
    this.#resyncTimer = undefined;
    // Whoever awaits start() must not wait forever; a later start() begins anew.
    this.#markStarted?.();
    this.#started = undefined;
    this.#markStarted = undefined;
  }

  synced(): boolean {
    return this.#synced;
  }

  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(keyOf(namespace, name));
  }

  on(event: InformerEvent, handler: (obj: T, old?: T) => void): () => void {
    this.#handlers[event].add(handler);
    return () => this.#handlers[event].delete(handler);
  }

  /** The resourceVersion the next watch resumes from (for tests and diagnostics). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#options.backoff ?? DEFAULT_BACKOFF);
    let needList = true;
    while (!signal.aborted) {
      try {
        const streaming = needList && this.#streamingList;
        if (needList && !streaming) {
          await this.#relist(signal);
          needList = false;
        }
        const began = Date.now();
        const end = await this.#watch(signal, streaming);
        if (streaming) {
          // Listed only if the bookmark ending the initial events arrived.
          if (this.#initialKeys === undefined) needList = false;
          this.#initialKeys = undefined;
        }
        if (end.kind === 'stopped') break;
        if (end.kind === 'expired') {
          this.#log.info({ kind: this.#ref.kind, resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone), relisting');
          needList = true;
          continue;
        }
        if (end.kind === 'silent') {
          // Past the watch's own timeout the API server should have ended it: the connection is dead.
          this.#log.warn({ kind: this.#ref.kind, silenceMs: end.silenceMs }, 'watch silent past its timeout (a dead connection?), restarting it');
          continue;
        }
        if (end.events === 0 && Date.now() - began < MIN_HEALTHY_WATCH_MS) {
          await sleep(backoff.next(), signal);
        } else {
          backoff.reset();
        }
      } catch (err) {
        this.#initialKeys = undefined;
        if (signal.aborted) break;
        if (needList && this.#streamingList && isRefusedStreamingList(err)) {
          this.#log.info({ kind: this.#ref.kind, err: errorMessage(err) }, 'the API server refuses streaming lists (WatchList off): listing instead');
          this.#streamingList = false;
          continue;
        }
        if (isGone(err)) needList = true;
        this.#options.onError?.(err);
        const delay = backoff.next();
        this.#log.warn({ kind: this.#ref.kind, err: errorMessage(err), retryInMs: delay, attempt: backoff.attempts }, 'list/watch failed, retrying');
        await sleep(delay, signal);
      }
    }
  }

  /** Lists, replaces the cache with the answer and emits the differences. */
  async #relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await resourceClient<T>(this.#client, this.#ref).list(this.#options.namespace, {
      labelSelector: this.#options.labelSelector,
      fieldSelector: this.#options.fieldSelector,
      ...(this.#options.listPageSize !== undefined && { pageSize: this.#options.listPageSize }),
      signal,
    });
    if (signal.aborted) return;
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = this.#transform(raw);
      seen.add(objectKey(obj));
      this.#upsert(obj);
    }
    this.#resourceVersion = resourceVersion;
    this.#settleList(seen);
  }

  /** After a full (re)list whose objects had `seen` keys: drops the others (emitting deletes) and marks the cache synced. */
  #settleList(seen: Set<string>): void {
    for (const [key, old] of this.#cache) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        this.#emit('delete', old);
      }
    }
    if (!this.#synced) this.#log.debug({ kind: this.#ref.kind, objects: this.#cache.size }, 'informer synced');
    this.#synced = true;
    this.#markStarted?.();
  }

  /** The silence that ends a watch asked to last `timeoutSeconds`. */
  #silenceMs(timeoutSeconds: number): number {
    return this.#options.silenceTimeoutMs ?? timeoutSeconds * 1000 + SILENCE_GRACE_MS;
  }

  /**
   * One watch from the current resourceVersion, until it ends; returns why it ended. With
   * `initialEvents` it is a streaming list: every object arrives first as ADDED, then a bookmark
   * marks the end of the list; `#initialKeys` is cleared only once that bookmark arrived.
   */
  async #watch(signal: AbortSignal, initialEvents = false): Promise<WatchEnd> {
    const watch = new AbortController();
    const stopWatch = () => watch.abort();
    signal.addEventListener('abort', stopWatch, { once: true });
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? randomInt(240, 361);
    const silenceMs = this.#silenceMs(timeoutSeconds);
    const openedAt = Date.now();
    let lastActivity = Date.now();
    let silent = false;
    // The watchdog: the server's timeoutSeconds ends healthy watches; this ends dead ones.
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastActivity > silenceMs) {
          silent = true;
          watch.abort(new Error(`watch of ${this.#ref.plural} silent for ${silenceMs} ms`));
        }
      },
      Math.max(50, Math.min(1_000, silenceMs / 4)),
    );
    watchdog.unref();
    let events = 0;
    try {
      const body = await this.#client.stream({
        path: resourcePath(this.#ref, this.#options.namespace),
        query: {
          watch: true,
          ...(initialEvents ? { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' } : { resourceVersion: this.#resourceVersion }),
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
        },
        signal: watch.signal,
        timeoutMs: Math.min(silenceMs, 30_000),
      });
      lastActivity = Date.now();
      if (initialEvents) this.#initialKeys = new Set();
      const reader = body.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        lastActivity = Date.now();
        buffered += decoder.decode(value, { stream: true });
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          events++;
          if (this.#apply(line) === 'expired') {
            await reader.cancel().catch(() => undefined);
            return { kind: 'expired' };
          }
        }
      }
      return { kind: 'closed', events };
    } catch (err) {
      if (signal.aborted) return { kind: 'stopped' };
      if (silent) return { kind: 'silent', silenceMs };
      // The API server ending the watch at its own timeout may cut the stream instead of closing
      // it cleanly (seen as undici's "terminated"): that is the normal end of an idle watch.
      if (errorMessage(err) === 'terminated' && Date.now() - openedAt >= timeoutSeconds * 1000 - 5_000) return { kind: 'closed', events };
      throw err;
    } finally {
      clearInterval(watchdog);
      signal.removeEventListener('abort', stopWatch);
      watch.abort();
    }
  }

  /** Applies one watch event line to the cache. */
  #apply(line: string): 'expired' | undefined {
    let event: { type?: string; object?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      this.#log.warn({ kind: this.#ref.kind, line: line.slice(0, 200) }, 'unparsable watch event ignored');
      return undefined;
    }
    if (event.type === 'ERROR') {
      const status = (event.object ?? {}) as KubeStatus;
      const error = new KubeApiError(
        `WATCH ${resourcePath(this.#ref, this.#options.namespace)}`,
        status.code ?? 500,
        status,
        `watch error: ${status.message ?? 'unknown'} (${status.code ?? '?'} ${status.reason ?? ''})`,
      );
      if (isGone(error)) return 'expired';
      throw toSdkError(error);
    }
    const obj = event.object as T | undefined;
    if (!obj?.metadata) return undefined;
    const version = obj.metadata.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.#initialKeys?.add(objectKey(obj));
        this.#upsert(this.#transform(obj));
        break;
      case 'DELETED': {
        const key = objectKey(obj);
        this.#cache.delete(key);
        this.#emit('delete', this.#transform(obj));
        break;
      }
      case 'BOOKMARK':
        if (this.#initialKeys && obj.metadata.annotations?.[INITIAL_EVENTS_END] === 'true') {
          if (version) this.#resourceVersion = version;
          const seen = this.#initialKeys;
          this.#initialKeys = undefined;
          this.#settleList(seen);
        }
        break;
      default:
        return undefined;
    }
    if (version) this.#resourceVersion = version;
    return undefined;
  }

  /** Caches `obj` and emits add or update; nothing when the cached copy is the same version. */
  #upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.#cache.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.#cache.set(key, obj);
    if (old) this.#emit('update', obj, old);
    else this.#emit('add', obj);
  }

  #resync(): void {
    if (!this.#synced) return;
    for (const obj of this.#cache.values()) this.#emit('update', obj, obj);
  }

  #emit(event: InformerEvent, obj: T, old?: T): void {
    for (const handler of this.#handlers[event]) {
      try {
        handler(obj, old);
      } catch (err) {
        this.#log.error({ kind: this.#ref.kind, event, err: errorMessage(err) }, 'informer handler threw');
      }
    }
  }
}

/** The API server's answer to `sendInitialEvents` when its WatchList feature is off. */
function isRefusedStreamingList(err: unknown): boolean {
  const status = kubeStatusOf(err);
  return status === 400 || status === 422;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
