/**
 * Status writes through the status subresource as JSON merge patches, stamped with the
 * `observedGeneration` they were computed from, and skipped when they would change nothing (so a
 * reconcile that finds everything in order costs no API write and triggers no watch event).
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, MergePatch, ResourceClient } from '@opendepot/core';

/** Applies a JSON merge patch (RFC 7386) to `target` and returns the result; `target` is untouched. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** Options of {@link StatusWriter.write}. */
export interface StatusWriteOptions {
  signal?: AbortSignal;
  /** Do not stamp `observedGeneration` (for kinds whose status has none). */
  skipObservedGeneration?: boolean;
}

/** What a write did. */
export interface StatusWriteResult<T> {
  /** False when the status already was as asked and nothing was sent. */
  written: boolean;
  /** The object after the write (or the input when nothing was written). */
  object: T;
}

/**
 * The memory of this writer's latest write of one object: the object it produced, and the
 * resourceVersions it supersedes (what it was based on, and the results of the earlier writes in
 * the same chain), any of which a lagging cache may still show.
 */
interface Written<T> {
  superseded: (string | undefined)[];
  result: T;
}

/** How many superseded resourceVersions are kept per object. */
const CHAIN = 16;

const REMEMBERED = 10_000;

/**
 * Writes statuses of one kind. It remembers its own last write per object, so that an informer
 * cache that has not caught up yet is not mistaken for the current state (which could skip a
 * needed write or repeat one).
 */
export class StatusWriter<T extends KubeObject> {
  readonly #resource: ResourceClient<T>;
  readonly #written = new Map<string, Written<T>>();

  constructor(resource: ResourceClient<T>) {
    this.#resource = resource;
  }

  /**
   * Merges `status` into `obj.status` (merge-patch rules: `null` removes a field, arrays are
   * replaced) with `observedGeneration = obj.metadata.generation`, and writes it unless that
   * changes nothing.
   */
  async write(obj: T, status: MergePatch<NonNullable<T['status']>>, options: StatusWriteOptions = {}): Promise<StatusWriteResult<T>> {
    const { namespace, name, uid, resourceVersion, generation } = obj.metadata;
    if (!name) throw new Error(`${this.#resource.ref.kind} without a name`);
    const patch: Record<string, unknown> = { ...(status as Record<string, unknown>) };
    if (!options.skipObservedGeneration && generation !== undefined) patch.observedGeneration = generation;

    const memory = uid === undefined ? undefined : this.#written.get(uid);
    // The cache still shows a version our writes replaced: our latest write is the newer truth.
    const remembered = memory?.superseded.includes(resourceVersion) ? memory : undefined;
    const current = remembered ? remembered.result : obj;
    if (isDeepStrictEqual(applyMergePatch(current.status ?? {}, patch), current.status ?? {})) {
      return { written: false, object: current };
    }
    const result = await this.#resource.patchStatus(namespace, name, patch as MergePatch<NonNullable<T['status']>>, { signal: options.signal });
    if (uid !== undefined) {
      const chain = remembered ? [...remembered.superseded, remembered.result.metadata.resourceVersion] : [resourceVersion];
      this.#remember(uid, { superseded: chain.slice(-CHAIN), result });
    }
    return { written: true, object: result };
  }

  /**
   * The freshest view of `obj`: the result of this writer's last write when the cache still shows
   * the version that write replaced. A reconcile must read its own last status (a recorded
   * checksum, say) even before the informer has caught up with it.
   */
  current(obj: T): T {
    const memory = obj.metadata.uid === undefined ? undefined : this.#written.get(obj.metadata.uid);
    return memory?.superseded.includes(obj.metadata.resourceVersion) ? memory.result : obj;
  }

  /** Forgets an object (call when it is deleted). */
  forget(uid: string | undefined): void {
    if (uid !== undefined) this.#written.delete(uid);
  }

  #remember(uid: string, entry: Written<T>): void {
    this.#written.delete(uid);
    this.#written.set(uid, entry);
    if (this.#written.size > REMEMBERED) {
      const oldest = this.#written.keys().next().value;
      if (oldest !== undefined) this.#written.delete(oldest);
    }
  }
}
