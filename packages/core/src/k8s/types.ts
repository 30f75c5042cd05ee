/**
 * The shapes the Kubernetes layer shares with the operator and the server. Only this layer,
 * the server and the operator talk to Kubernetes; everything else sees plain objects.
 */

import type { Condition } from '../crds/common.ts';
import type { ObjectMeta } from '../crds/resource.ts';

/**
 * Object metadata, the fields OpenDepot reads and writes: the same type the CRD types use, so a
 * `Module` or `Version` is a {@link KubeObject}. `name` is optional only because a manifest may
 * use `generateName`; every object read from the API server has one.
 */
export type { ObjectMeta };

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/** Where a kind of resource is served. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** A standard Kubernetes condition (metav1.Condition), the type the CRD schemas define. */
export type { Condition };

/** Events an informer emits. */
export type InformerEvent = 'add' | 'update' | 'delete';

/**
 * A local cache of one resource kind, kept current by list + watch. It survives errors on its
 * own (restart with jittered backoff, relist after 410 Gone, a watchdog for a silent stream).
 */
export interface Informer<T extends KubeObject> {
  /** Starts listing and watching; resolves once the first list is in the cache. */
  start(): Promise<void>;
  /** Stops watching; the cache keeps its last content. */
  stop(): void;
  /** True once the first list has been loaded. */
  synced(): boolean;
  /** Cached objects, optionally of one namespace. */
  list(namespace?: string): T[];
  /** One cached object. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** Subscribes to changes; returns the unsubscribe function. `old` is set for updates. */
  on(event: InformerEvent, handler: (obj: T, old?: T) => void): () => void;
}

/**
 * The logger the Kubernetes layer writes to: a pino logger fits, and so does anything with these
 * four methods. Fields first, message second, as pino takes them.
 */
export interface KubeLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A logger that drops everything, the default. */
export const silentLogger: KubeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
