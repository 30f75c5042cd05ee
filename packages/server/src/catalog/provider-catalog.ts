/**
 * In-memory indexes of the provider Versions in the Version informer cache, kept current from
 * its events: by providers.v1 address (`<kubernetes namespace>/<type>`) and by the upstream
 * address the network mirror serves them under. Views are built on first use after a change.
 */
import type { Informer, Version } from '@opendepot/core';
import type { CatalogLogger } from './module-catalog.ts';
import { buildMirrorView, type MirrorView } from './mirror-view.ts';
import { mirrorAddressKey, mirrorAddressKeys, providerAddressKey } from './provider-address.ts';
import { buildProviderView, type ProviderView } from './provider-view.ts';

const resourceKeyOf = (v: Version) => `${v.metadata.namespace ?? ''}/${v.metadata.name ?? ''}`;

function addressKeyOf(version: Version): string | undefined {
  const type = version.spec.provider?.name;
  return type === undefined ? undefined : providerAddressKey(version.metadata.namespace ?? '', type);
}

/** Indexes provider Versions for providers.v1 and the network mirror. */
export class ProviderCatalog {
  readonly #versions = new Map<string, Version>();
  readonly #addressOf = new Map<string, string>();
  readonly #mirrorKeysOf = new Map<string, readonly string[]>();
  readonly #byAddress = new Map<string, Set<string>>();
  readonly #byMirror = new Map<string, Set<string>>();
  readonly #views = new Map<string, ProviderView>();
  readonly #mirrorViews = new Map<string, MirrorView>();
  readonly #warned = new Set<string>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #informer: Informer<Version>;
  readonly #log: CatalogLogger | undefined;
  #seededAfterSync = false;

  constructor(versions: Informer<Version>, log?: CatalogLogger) {
    this.#informer = versions;
    this.#log = log;
    // Subscribe before seeding so nothing that changes in between is missed; upserts are idempotent.
    this.#unsubscribe.push(
      versions.on('add', (v) => this.#upsert(v)),
      versions.on('update', (v) => this.#upsert(v)),
      versions.on('delete', (v) => this.#remove(v)),
    );
    this.#seed();
  }

  /** The provider served at `namespace/type` (case-insensitive), if any Version names it. */
  find(namespace: string, type: string): ProviderView | undefined {
    if (!this.#seededAfterSync) this.#seed();
    const key = providerAddressKey(namespace, type);
    const cached = this.#views.get(key);
    if (cached !== undefined) return cached;
    // Only addresses that exist are cached, so unknown ones requested at random cost no memory.
    const view = this.#buildView(key);
    if (view !== undefined) this.#views.set(key, view);
    return view;
  }

  /** Every provider served (one per address), for the browse UI. */
  all(): ProviderView[] {
    if (!this.#seededAfterSync) this.#seed();
    const views: ProviderView[] = [];
    for (const key of this.#byAddress.keys()) {
      const [namespace = '', type = ''] = key.split('/');
      const view = this.find(namespace, type);
      if (view !== undefined) views.push(view);
    }
    return views;
  }

  /** What the network mirror serves for `hostname/namespace/type` (case-insensitive), if anything. */
  findMirrored(hostname: string, namespace: string, type: string): MirrorView | undefined {
    if (!this.#seededAfterSync) this.#seed();
    const key = mirrorAddressKey(hostname, namespace, type);
    const resources = this.#byMirror.get(key);
    if (resources === undefined) return undefined;
    const cached = this.#mirrorViews.get(key);
    if (cached !== undefined) return cached.releases.size === 0 ? undefined : cached;
    const addresses = new Set<string>();
    for (const resource of resources) addresses.add(this.#addressOf.get(resource)!);
    const views: ProviderView[] = [];
    for (const address of addresses) {
      const [ns, t] = address.split('/') as [string, string];
      const view = this.find(ns, t);
      if (view !== undefined) views.push(view);
    }
    const mirror = buildMirrorView(key, views, (c) =>
      this.#warnOnce(
        `mirror-conflict:${key}:${c.version}:${c.platform}`,
        { mirror: key, ...c },
        'several Providers mirror one package with different checksums; the first namespace in alphabetical order is served',
      ),
    );
    this.#mirrorViews.set(key, mirror);
    return mirror.releases.size === 0 ? undefined : mirror;
  }

  /** How many provider Versions the indexes hold. */
  size(): number {
    return this.#versions.size;
  }

  /** Stops following the informer. */
  dispose(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  // Seeds from the cache once more when it has synced, in case the first list filled it without
  // 'add' events; until then every call tries again (cheap while it is empty).
  #seed(): void {
    const synced = this.#informer.synced();
    for (const v of this.#informer.list()) this.#upsert(v);
    this.#seededAfterSync = synced;
  }

  #buildView(key: string): ProviderView | undefined {
    const byOwner = new Map<string, { version: Version; resource: string }[]>();
    for (const resource of this.#byAddress.get(key) ?? []) {
      const version = this.#versions.get(resource)!;
      const owner = version.spec.ownerName;
      let owned = byOwner.get(owner);
      if (owned === undefined) byOwner.set(owner, (owned = []));
      owned.push({ version, resource });
    }
    if (byOwner.size === 0) return undefined;
    // Of several Providers in one namespace claiming one type, the first by name is served, so
    // the answer never depends on event order.
    const owners = [...byOwner.keys()].sort();
    const owner = owners[0]!;
    if (owners.length > 1) this.#warnOnce(`provider-conflict:${key}`, { address: key, providers: owners, served: owner }, 'several Providers claim one provider address; the first by name is served');
    const owned = byOwner.get(owner)!;
    const first = owned[0]!.version;
    return buildProviderView(first.metadata.namespace ?? '', first.spec.provider!.name, owner, owned, (id, details, message) => this.#warnOnce(id, details, message));
  }

  #upsert(version: Version): void {
    // Module Versions are indexed by the module catalog.
    if (version.spec.kind !== 'Provider') return;
    const resource = resourceKeyOf(version);
    const address = addressKeyOf(version);
    if (address === undefined) {
      this.#remove(version);
      this.#warnOnce(`provider-spec:${resource}`, { version: resource }, 'provider Version has no spec.provider; not served');
      return;
    }
    this.#detach(resource);
    this.#versions.set(resource, version);
    this.#addressOf.set(resource, address);
    this.#indexAdd(this.#byAddress, address, resource);
    const mirrorKeys = mirrorAddressKeys(version);
    this.#mirrorKeysOf.set(resource, mirrorKeys);
    for (const key of mirrorKeys) this.#indexAdd(this.#byMirror, key, resource);
    this.#invalidate(address);
  }

  #remove(version: Version): void {
    this.#detach(resourceKeyOf(version));
  }

  #detach(resource: string): void {
    const address = this.#addressOf.get(resource);
    if (address !== undefined) {
      this.#indexDelete(this.#byAddress, address, resource);
      this.#invalidate(address);
    }
    for (const key of this.#mirrorKeysOf.get(resource) ?? []) this.#indexDelete(this.#byMirror, key, resource);
    this.#versions.delete(resource);
    this.#addressOf.delete(resource);
    this.#mirrorKeysOf.delete(resource);
  }

  // A change can move which Provider an address serves, and so what every mirror merging that
  // address holds: mirror views are cheap to rebuild on demand, so all of them are dropped.
  #invalidate(address: string): void {
    this.#views.delete(address);
    this.#mirrorViews.clear();
  }

  #indexAdd(index: Map<string, Set<string>>, key: string, resource: string): void {
    let set = index.get(key);
    if (set === undefined) index.set(key, (set = new Set()));
    set.add(resource);
  }

  #indexDelete(index: Map<string, Set<string>>, key: string, resource: string): void {
    const set = index.get(key);
    set?.delete(resource);
    if (set?.size === 0) index.delete(key);
  }

  #warnOnce(id: string, details: Record<string, unknown>, message: string): void {
    if (this.#warned.has(id)) return;
    this.#warned.add(id);
    this.#log?.warn(message, details);
  }
}
