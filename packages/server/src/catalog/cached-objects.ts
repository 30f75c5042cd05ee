/**
 * The server's informers of Modules and Versions, and what of each object they keep: the server
 * holds every Version of every namespace, so fields it never reads are dropped before caching.
 */
import { createInformer, RESOURCES, type Informer, type KubeClient, type KubeLogger, type KubeObject, type Module, type Version } from '@opendepot/core';

/**
 * Metadata the server reads: names, resourceVersion (change detection), generation, deletion, and
 * the creation time that decides between Modules or Providers claiming one address. Versions
 * are never ordered by it, so theirs is dropped (with 100,000 Versions each field is ~4 MB).
 */
const KEPT_METADATA = ['name', 'namespace', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;
const KEPT_VERSION_METADATA = KEPT_METADATA.filter((key) => key !== 'creationTimestamp');

/**
 * Objects per list page: 0, one answer. The API server answers an unpaged list from its watch
 * cache, paged ones (past the first page) from etcd: on 20,000 Versions one answer reached the
 * first correct answer about 3× sooner than pages of 500 or 5,000 (BENCHMARKS.md). client-go
 * informers get the same effect by listing at resourceVersion 0. The price is a higher peak
 * while the one answer is parsed.
 */
export const SERVER_LIST_PAGE_SIZE = 0;

/**
 * Fill the caches with the API server's streaming list (`sendInitialEvents`: from its watch cache,
 * one object at a time) where its WatchList feature is on, else the unpaged list above. On 20,000
 * Versions it reached the first correct answer 20–29 % sooner than the unpaged list and left the
 * idle process ~100 MB smaller: no one large answer to hold and parse (BENCHMARKS.md).
 */
export const SERVER_STREAMING_LIST = true;

/**
 * Values many cached objects hold alike (namespace, owner, module address, storage settings,
 * condition reasons and messages, sync times), kept once. JSON.parse gives every object its own
 * copy: on 20,000 Versions of one Module that was ~7 MB of the heap (BENCHMARKS.md, cold start).
 * Bounded: when a table is full it starts again, which only costs sharing, never correctness.
 */
export class SharedValues {
  static readonly MAX_ENTRIES = 10_000;
  /** Longer strings are rarely shared (a checksum, a README paragraph) and are kept as they are. */
  static readonly MAX_STRING_LENGTH = 256;
  readonly #strings = new Map<string, string>();
  readonly #objects = new Map<string, unknown>();

  /** The shared copy of `value`. */
  string<T extends string | undefined>(value: T): T {
    if (value === undefined || value.length > SharedValues.MAX_STRING_LENGTH) return value;
    const shared = this.#strings.get(value);
    if (shared !== undefined) return shared as T;
    if (this.#strings.size >= SharedValues.MAX_ENTRIES) this.#strings.clear();
    this.#strings.set(value, value);
    return value;
  }

  /**
   * The shared, frozen copy of a small JSON value (storage settings, a module's address):
   * equal values become one object. Readers of the cache treat objects as read-only anyway;
   * freezing makes a slip fail loudly instead of changing every Version that shares it.
   */
  object<T>(value: T): T {
    if (value === undefined || value === null || typeof value !== 'object') return value;
    const key = JSON.stringify(value);
    if (key.length > SharedValues.MAX_STRING_LENGTH) return value;
    const shared = this.#objects.get(key);
    if (shared !== undefined) return shared as T;
    if (this.#objects.size >= SharedValues.MAX_ENTRIES) this.#objects.clear();
    const frozen = deepFreeze(this.#internStrings(value));
    this.#objects.set(key, frozen);
    return frozen;
  }

  #internStrings<T>(value: T): T {
    if (typeof value === 'string') return this.string(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.#internStrings(item)) as T;
    if (value === null || typeof value !== 'object') return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = this.#internStrings(item);
    return copy as T;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

const CONDITION_TEXT_FIELDS = ['type', 'status', 'reason', 'message', 'lastTransitionTime'] as const;
/** spec fields that repeat from Version to Version of one owner (shared), or are short codes. */
const SHARED_SPEC_OBJECTS = ['module', 'provider', 'storageConfig', 'scanning', 'sourceScan'] as const;
const SHARED_SPEC_STRINGS = ['kind', 'ownerName', 'fileFormat', 'operatingSystem', 'architecture'] as const;

/**
 * The object without what the server never reads: managedFields, annotations (a kubectl
 * `last-applied-configuration` doubles an object), labels, owner references, finalizers, and the
 * Version's legacy one-line `status.syncStatus`; values many objects hold alike are shared.
 */
export function keepServedFields<T extends KubeObject & { status?: unknown }>(obj: T): T {
  return keepWith(obj, defaultSharedValues);
}

/** {@link keepServedFields} sharing values through `shared` instead of the process's table. */
export function keepServedFieldsWith(shared: SharedValues): <T extends KubeObject & { status?: unknown }>(obj: T) => T {
  return (obj) => keepWith(obj, shared);
}

function keepWith<T extends KubeObject & { status?: unknown }>(obj: T, shared: SharedValues): T {
  const metadata: Record<string, unknown> = {};
  const source = obj.metadata as Record<string, unknown>;
  for (const key of obj.kind === 'Version' ? KEPT_VERSION_METADATA : KEPT_METADATA) if (source[key] !== undefined) metadata[key] = source[key];
  metadata.namespace = shared.string(metadata.namespace as string | undefined);
  const kept = { ...obj, apiVersion: shared.string(obj.apiVersion), kind: shared.string(obj.kind), metadata } as T;
  const spec = (obj as { spec?: unknown }).spec;
  if (spec !== null && typeof spec === 'object') (kept as { spec?: unknown }).spec = shareSpec(spec as Record<string, unknown>, shared);
  const status = obj.status as Record<string, unknown> | undefined;
  if (status !== null && typeof status === 'object') {
    const { syncStatus: _unread, ...rest } = status;
    if (Array.isArray(rest.conditions)) rest.conditions = rest.conditions.map((c: Record<string, unknown>) => shareCondition(c, shared));
    if (Array.isArray(rest.protocols)) rest.protocols = shared.object(rest.protocols);
    (kept as { status?: unknown }).status = rest;
  }
  return kept;
}

const defaultSharedValues = new SharedValues();

function shareSpec(spec: Record<string, unknown>, shared: SharedValues): Record<string, unknown> {
  const copy = { ...spec };
  for (const key of SHARED_SPEC_OBJECTS) if (key in copy) copy[key] = shared.object(copy[key]);
  for (const key of SHARED_SPEC_STRINGS) if (typeof copy[key] === 'string') copy[key] = shared.string(copy[key]);
  return copy;
}

function shareCondition(condition: Record<string, unknown>, shared: SharedValues): Record<string, unknown> {
  if (condition === null || typeof condition !== 'object') return condition;
  const copy = { ...condition };
  for (const key of CONDITION_TEXT_FIELDS) if (typeof copy[key] === 'string') copy[key] = shared.string(copy[key]);
  return copy;
}

/** The Module and Version informers of the server (all namespaces); start them to fill them. */
export function registryInformers(client: KubeClient, logger: KubeLogger): { modules: Informer<Module>; versions: Informer<Version> } {
  const options = { logger, listPageSize: SERVER_LIST_PAGE_SIZE, streamingList: SERVER_STREAMING_LIST };
  return {
    modules: createInformer<Module>(client, RESOURCES.module, { ...options, transform: keepServedFields }),
    versions: createInformer<Version>(client, RESOURCES.version, { ...options, transform: keepServedFields }),
  };
}
