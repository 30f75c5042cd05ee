/**
 * One informer over a set of namespaces: an informer per namespace behind the one interface, so
 * an operator told to watch `[team-a, team-b]` lists and watches exactly those (its RBAC may
 * allow nothing else) instead of the whole cluster.
 */
import type { Informer, InformerEvent, KubeObject } from './types.ts';

/** `make(namespace)` for each namespace, seen as one; with a single namespace, that informer itself. */
export function namespacesInformer<T extends KubeObject>(namespaces: readonly string[], make: (namespace: string) => Informer<T>): Informer<T> {
  const unique = [...new Set(namespaces)];
  if (unique.length === 0) throw new Error('namespacesInformer needs at least one namespace');
  const parts = new Map(unique.map((ns) => [ns, make(ns)]));
  if (parts.size === 1) return parts.values().next().value!;
  const all = [...parts.values()];
  return {
    async start() {
      await Promise.all(all.map((i) => i.start()));
    },
    stop() {
      for (const i of all) i.stop();
    },
    synced: () => all.every((i) => i.synced()),
    list: (namespace) => (namespace === undefined ? all.flatMap((i) => i.list()) : (parts.get(namespace)?.list(namespace) ?? [])),
    get: (namespace, name) => (namespace === undefined ? undefined : parts.get(namespace)?.get(namespace, name)),
    on(event: InformerEvent, handler: (obj: T, old?: T) => void) {
      const offs = all.map((i) => i.on(event, handler));
      return () => offs.forEach((off) => off());
    },
  };
}
