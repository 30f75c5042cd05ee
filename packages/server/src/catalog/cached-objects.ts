/**
 * The server's informers of Modules and Versions, and what of each object they keep: the server
 * holds every Version of every namespace, so fields it never reads are dropped before caching.
 */
import { createInformer, RESOURCES, type Informer, type KubeClient, type KubeLogger, type KubeObject, type Module, type Version } from '@opendepot/core';

/** Metadata the server reads (names, uid, resourceVersion for change detection, times, generation). */
const KEPT_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;

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
 * The object without what the server never reads: managedFields, annotations (a kubectl
 * `last-applied-configuration` doubles an object), labels, owner references, finalizers, and the
 * Version's legacy one-line `status.syncStatus`.
 */
export function keepServedFields<T extends KubeObject & { status?: unknown }>(obj: T): T {
  const metadata: Record<string, unknown> = {};
  const source = obj.metadata as Record<string, unknown>;
  for (const key of KEPT_METADATA) if (source[key] !== undefined) metadata[key] = source[key];
  const kept = { ...obj, metadata } as T;
  const status = obj.status as Record<string, unknown> | undefined;
  if (status !== undefined && 'syncStatus' in status) {
    const { syncStatus: _unread, ...rest } = status;
    (kept as { status?: unknown }).status = rest;
  }
  return kept;
}

/** The Module and Version informers of the server (all namespaces); start them to fill them. */
export function registryInformers(client: KubeClient, logger: KubeLogger): { modules: Informer<Module>; versions: Informer<Version> } {
  const options = { logger, listPageSize: SERVER_LIST_PAGE_SIZE, streamingList: SERVER_STREAMING_LIST };
  return {
    modules: createInformer<Module>(client, RESOURCES.module, { ...options, transform: keepServedFields }),
    versions: createInformer<Version>(client, RESOURCES.version, { ...options, transform: keepServedFields }),
  };
}
