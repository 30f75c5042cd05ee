/** Where each kind OpenDepot reads or writes is served, and how its URLs and cache keys are built. */
import { GROUP, VERSION } from '../crds/resource.ts';
import type { KubeObject, ResourceRef } from './types.ts';

function opendepot(kind: string, plural: string): ResourceRef {
  return { group: GROUP, version: VERSION, plural, kind, namespaced: true };
}

/** The OpenDepot kinds. */
export const RESOURCES = {
  module: opendepot('Module', 'modules'),
  version: opendepot('Version', 'versions'),
  provider: opendepot('Provider', 'providers'),
  depot: opendepot('Depot', 'depots'),
  groupBinding: opendepot('GroupBinding', 'groupbindings'),
} as const satisfies Record<string, ResourceRef>;

/** Built-in kinds the operator and the server use. */
export const CORE_RESOURCES = {
  event: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
} as const satisfies Record<string, ResourceRef>;

/** `apiVersion` of a kind: `group/version`, or just `version` for the core group. */
export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/**
 * The API path of a collection (no name) or of one object, optionally of a subresource:
 * `/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/status`. Without a namespace a
 * namespaced kind is addressed across all namespaces.
 */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let path = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  if (ref.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${ref.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

/** The work-queue and cache key of an object: `namespace/name`, or `name` for a cluster-scoped one. */
export function objectKey(obj: KubeObject): string {
  return keyOf(obj.metadata.namespace, obj.metadata.name ?? '');
}

/** The key of `namespace/name`. */
export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key made by {@link keyOf}. */
export function parseKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
