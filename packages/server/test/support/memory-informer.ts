/**
 * An in-memory stand-in for the informer *interface* (not for the Kubernetes API): unit tests
 * put objects in and the server sees the same events a real informer emits.
 */
import type { Informer, InformerEvent, KubeObject } from '@opendepot/core';

export class MemoryInformer<T extends KubeObject> implements Informer<T> {
  readonly #objects = new Map<string, T>();
  readonly #handlers = new Map<InformerEvent, Set<(obj: T, old?: T) => void>>();
  #synced: boolean;

  constructor(objects: T[] = [], options: { synced?: boolean } = {}) {
    for (const o of objects) this.#objects.set(this.#key(o), o);
    this.#synced = options.synced ?? true;
  }

  async start(): Promise<void> {
    this.#synced = true;
  }
  stop(): void {}
  synced(): boolean {
    return this.#synced;
  }
  /** Marks the first list as loaded, as a real informer does once. */
  markSynced(): void {
    this.#synced = true;
  }
  list(namespace?: string): T[] {
    return [...this.#objects.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#objects.get(`${namespace ?? ''}/${name}`);
  }
  on(event: InformerEvent, handler: (obj: T, old?: T) => void): () => void {
    let set = this.#handlers.get(event);
    if (set === undefined) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Adds or replaces an object, emitting `add` or `update`. */
  put(obj: T): void {
    const key = this.#key(obj);
    const old = this.#objects.get(key);
    this.#objects.set(key, obj);
    for (const h of this.#handlers.get(old === undefined ? 'add' : 'update') ?? []) h(obj, old);
  }
  /** Removes an object, emitting `delete`. */
  remove(obj: T): void {
    const key = this.#key(obj);
    const old = this.#objects.get(key);
    if (old === undefined) return;
    this.#objects.delete(key);
    for (const h of this.#handlers.get('delete') ?? []) h(old);
  }
  /** Adds without emitting anything (an informer whose first list fills the cache silently). */
  putSilently(obj: T): void {
    this.#objects.set(this.#key(obj), obj);
  }

  #key(o: T): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  }
}
