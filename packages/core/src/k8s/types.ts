/**
 * The shapes the Kubernetes layer shares with the operator and the server. Only this layer,
 * the server and the operator talk to Kubernetes; everything else sees plain objects.
 */

/** Object metadata, the fields OpenDepot reads and writes. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
}

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

/** A standard Kubernetes condition (metav1.Condition). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

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
