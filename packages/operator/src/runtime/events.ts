/**
 * Kubernetes Events (core/v1, what `kubectl describe` and `kubectl events` show) about our
 * objects. A repeat of the same event (same object, type, reason and message) bumps the `count`
 * and `lastTimestamp` of the existing Event instead of creating another, so a failure retried
 * every few seconds produces one Event, not thousands. Recording never throws: an Event that
 * cannot be written is logged and dropped, it must not fail a reconcile.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  CORE_RESOURCES,
  isNotFound,
  resourceClient,
  silentLogger,
  type KubeClient,
  type KubeLogger,
  type KubeObject,
  type ResourceClient,
} from '@opendepot/core';

/** `Normal` for progress, `Warning` for something a person may have to look at. */
export type EventType = 'Normal' | 'Warning';

/** The core/v1 Event fields we write. */
export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: EventType;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  client: KubeClient;
  /** The controller that reports, e.g. `opendepot.defdev.io/operator` (source.component, reportingComponent). */
  component: string;
  /** This replica, e.g. the pod name; the host name by default. */
  instance?: string;
  logger?: KubeLogger;
  /** How long a repeat still bumps the existing Event; later a new one is created. Default 1 h (the API server's Event TTL). */
  aggregateWindowMs?: number;
  /** How many distinct events are remembered for aggregation. Default 4096. */
  maxRemembered?: number;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

const MAX_MESSAGE = 1024;

function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Records Events about objects. */
export class EventRecorder {
  readonly #events: ResourceClient<CoreEvent>;
  readonly #component: string;
  readonly #instance: string;
  readonly #log: KubeLogger;
  readonly #windowMs: number;
  readonly #max: number;
  readonly #seen = new Map<string, Seen>();
  /** One write at a time per distinct event, so two repeats never both create. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.#events = resourceClient<CoreEvent>(options.client, CORE_RESOURCES.event, { fieldManager: options.component });
    this.#component = options.component;
    this.#instance = options.instance ?? hostname();
    this.#log = options.logger ?? silentLogger;
    this.#windowMs = options.aggregateWindowMs ?? 60 * 60_000;
    this.#max = options.maxRemembered ?? 4096;
  }

  /** Records a Normal event. */
  normal(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Normal', reason, message);
  }

  /** Records a Warning event. */
  warning(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Warning', reason, message);
  }

  /** Records an event about `obj`; resolves when written (or when writing failed and was logged). */
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const key = [obj.metadata.uid ?? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`, type, reason, text].join('\u0000');
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#write(key, obj, type, reason, text))
      .catch((err: unknown) => {
        this.#log.warn({ reason, object: `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`, err: err instanceof Error ? err.message : String(err) }, 'could not record event');
      })
      .finally(() => {
        if (this.#pending.get(key) === next) this.#pending.delete(key);
      });
    this.#pending.set(key, next);
    return next;
  }

  async #write(key: string, obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const nowMs = Date.now();
    const now = eventTime(nowMs);
    const seen = this.#seen.get(key);
    if (seen && nowMs - seen.lastSeenMs < this.#windowMs) {
      try {
        await this.#events.patch(seen.namespace, seen.name, { count: seen.count + 1, lastTimestamp: now });
        seen.count += 1;
        seen.lastSeenMs = nowMs;
        this.#touch(key, seen);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Expired by the API server's Event TTL: start a new one.
      }
    }
    const namespace = obj.metadata.namespace ?? 'default';
    const name = `${obj.metadata.name ?? 'object'}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`.slice(-253).replace(/^[^a-z0-9]+/, '');
    await this.#events.create({
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.#component, host: this.#instance },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
    });
    this.#touch(key, { namespace, name, count: 1, firstTimestamp: now, lastSeenMs: nowMs });
  }

  /** Remembers `seen` as the most recent entry, forgetting the oldest beyond the limit. */
  #touch(key: string, seen: Seen): void {
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    while (this.#seen.size > this.#max) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }
}
