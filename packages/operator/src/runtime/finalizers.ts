/**
 * Finalizers: a controller that must clean up outside Kubernetes (a stored archive) adds its
 * finalizer before it creates anything, and removes it only after the cleanup succeeded, so the
 * API server keeps a deleted object until then.
 */
import type { KubeObject, ResourceClient } from '@opendepot/core';

/** The finalizer with which the Version controller guards stored archives. */
export const STORAGE_FINALIZER = 'opendepot.defdev.io/storage';

/** True when `obj` lists `finalizer`. */
export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/** True once deletion was requested (the object waits for its finalizers). */
export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/**
 * Adds `finalizer` unless present and returns the object as stored. Concurrent changes are
 * handled (a resourceVersion precondition, reread and retry), so another controller's finalizer
 * is never lost.
 */
export async function ensureFinalizer<T extends KubeObject>(resource: ResourceClient<T>, obj: T, finalizer: string, signal?: AbortSignal): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return resource.addFinalizer(obj, finalizer, signal ? { signal } : {});
}

/**
 * Removes `finalizer` if present and returns the object as stored, or undefined when it no
 * longer exists. Removing the last finalizer of a deleted object lets the API server delete it.
 */
export async function removeFinalizer<T extends KubeObject>(resource: ResourceClient<T>, obj: T, finalizer: string, signal?: AbortSignal): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return resource.removeFinalizer(obj, finalizer, signal ? { signal } : {});
}
