/**
 * Kubernetes Events (core/v1, what `kubectl describe` and `kubectl events` show) about our
 * objects. A repeat of the same event (same object, type, reason and message) bumps the `count`
 * and `lastTimestamp` of the existing Event instead of creating another, so a failure retried
 * every few seconds produces one Event, not thousands. Like Kubernetes' own EventAggregator,
 * similar events (same namespace, kind, type and reason) about many objects are folded too: past
 * `maxSimilar` distinct Events in `similarWindowMs`, the rest bump one Event whose message says
 * "(combined from similar events)", so a Module with 2,000 Versions does not write 2,000 Events.
 * Recording never throws: an Event that cannot be written is logged and dropped, it must not
 * fail a reconcile.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  CORE_RESOURCES,
  MAX_CONDITION_MESSAGE,
  conditionMessage,
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
  /** Distinct Events of one namespace, kind, type and reason before the rest are combined. Default 10 (as Kubernetes). */
  maxSimilar?: number;
  /** The window `maxSimilar` counts in. Default 10 min (as Kubernetes). */
  similarWindowMs?: number;
}

/** The prefix Kubernetes gives a combined Event's message. */
export const COMBINED_PREFIX = '(combined from similar events): ';

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

const MAX_MESSAGE = MAX_CONDITION_MESSAGE;

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
  readonly #maxSimilar: number;
  readonly #similarWindowMs: number;
  /** Distinct events per similar-key (namespace, kind, type, reason) in the current window. */
  readonly #similar = new Map<string, { distinct: number; since: number }>();
  /** One write at a time per distinct event, so two repeats never both create. */
  readonly #pending = new Map<string, Promise<void>>();
  /** A write queued behind the pending one, with the repeats it will count. */
  readonly #waiting = new Map<string, { times: number; message: string; done: Promise<void> }>();

  constructor(options: EventRecorderOptions) {
    this.#events = resourceClient<CoreEvent>(options.client, CORE_RESOURCES.event, { fieldManager: options.component });
    this.#component = options.component;
    this.#instance = options.instance ?? hostname();
    this.#log = options.logger ?? silentLogger;
    this.#windowMs = options.aggregateWindowMs ?? 60 * 60_000;
    this.#max = options.maxRemembered ?? 4096;
    this.#maxSimilar = options.maxSimilar ?? 10;
    this.#similarWindowMs = options.similarWindowMs ?? 10 * 60_000;
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
    // Every Event message is redacted and bounded here, whoever composed it.
    let text = conditionMessage(message);
    let key = [obj.metadata.uid ?? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`, type, reason, text].join('\u0000');
    const combined = this.#combinedKey(key, obj, type, reason);
    if (combined) {
      key = combined;
      text = `${COMBINED_PREFIX}${text}`.slice(0, MAX_MESSAGE);
    }
    // Repeats arriving while a write of the same Event waits are folded into that one write.
    const waiting = this.#waiting.get(key);
    if (waiting) {
      waiting.times += 1;
      waiting.message = text;
      return waiting.done;
    }
    const previous = this.#pending.get(key);
    const batch = { times: 1, message: text, done: Promise.resolve() };
    if (previous) this.#waiting.set(key, batch);
    const next = (previous ?? Promise.resolve())
      .then(() => {
        if (this.#waiting.get(key) === batch) this.#waiting.delete(key);
        return this.#write(key, obj, type, reason, batch.message, batch.times);
      })
      .catch((err: unknown) => {
        this.#log.warn({ reason, object: `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`, err: err instanceof Error ? err.message : String(err) }, 'could not record event');
      })
      .finally(() => {
        if (this.#pending.get(key) === next) this.#pending.delete(key);
      });
    batch.done = next;
    this.#pending.set(key, next);
    return next;
  }

  async #write(key: string, obj: KubeObject, type: EventType, reason: string, message: string, times = 1): Promise<void> {
    const nowMs = Date.now();
    const now = eventTime(nowMs);
    const seen = this.#seen.get(key);
    if (seen && nowMs - seen.lastSeenMs < this.#windowMs) {
      try {
        // The message too: a combined Event shows the latest of the events it stands for.
        await this.#events.patch(seen.namespace, seen.name, { count: seen.count + times, lastTimestamp: now, message });
        seen.count += times;
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
      count: times,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.#component, host: this.#instance },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
    });
    this.#touch(key, { namespace, name, count: times, firstTimestamp: now, lastSeenMs: nowMs });
  }

  /**
   * The key of the combined Event this event folds into, or undefined when it gets its own:
   * repeats of a remembered event keep theirs; a new one counts towards its similar-key's limit.
   */
  #combinedKey(key: string, obj: KubeObject, type: EventType, reason: string): string | undefined {
    const similarKey = ['combined', obj.metadata.namespace ?? '', obj.kind ?? '', type, reason].join('\u0000');
    const nowMs = Date.now();
    const seen = this.#seen.get(key);
    if ((seen && nowMs - seen.lastSeenMs < this.#windowMs) || this.#pending.has(key)) return undefined;
    let similar = this.#similar.get(similarKey);
    if (!similar || nowMs - similar.since >= this.#similarWindowMs) {
      similar = { distinct: 0, since: nowMs };
      this.#similar.set(similarKey, similar);
      if (this.#similar.size > this.#max) this.#similar.delete(this.#similar.keys().next().value as string);
    }
    similar.distinct += 1;
    return similar.distinct > this.#maxSimilar ? similarKey : undefined;
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
