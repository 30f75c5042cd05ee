/**
 * In-memory indexes over the Module and Version informer caches, kept current from informer
 * events, so a request costs a few map lookups instead of a scan of every cached object.
 */
import { compareVersions, tryParseVersion, type Module, type ParsedVersion, type Version } from '@opendepot/core';
import { EncodedAnswer } from '../http/encoded-answer.ts';
import type { ModuleVersionEntry, RegistryInformers } from './types.ts';
import { FOREIGN_KEY_MESSAGE, versionState } from './version-state.ts';

/** A module and its versions, computed once per change and reused by every request. */
export interface ModuleView {
  module: Module;
  /** `namespace/name/system` as the Module spells it. */
  address: string;
  /** Every version of the module by canonical version, servable or not. */
  versions: ReadonlyMap<string, ModuleVersionEntry>;
  /** The servable versions, oldest first. */
  ready: readonly ModuleVersionEntry[];
  /** The modules.v1 `versions` answer, encoded once per change of the module's Versions. */
  versionsAnswer: EncodedAnswer;
}

/** Where the catalog reports data it cannot use (conflicting Modules, unparseable versions). */
export interface CatalogLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The Versions of one owner; `owner` is its key, held once rather than once per Version. */
interface OwnedVersions {
  readonly owner: string;
  readonly versions: Map<string, Version>;
}

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

/** The registry address key: clients send names as written, so matching ignores case. */
export function addressKey(namespace: string, name: string, system: string): string {
  return `${namespace}/${name}/${system}`.toLowerCase();
}

function moduleAddressKey(module: Module): string {
  const config = module.spec.moduleConfig;
  return addressKey(module.metadata.namespace ?? '', config.name, config.provider);
}

// Of several Modules claiming one address the oldest wins, so the answer never flips.
function olderFirst(a: Module, b: Module): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** Indexes Modules by registry address and their Versions by owner. */
export class ModuleCatalog {
  readonly #modulesByAddress = new Map<string, Map<string, Module>>();
  readonly #addressOfModule = new Map<string, string>();
  readonly #versionsByOwner = new Map<string, OwnedVersions>();
  readonly #ownerOfVersion = new Map<string, string>();
  readonly #views = new Map<string, ModuleView>();
  readonly #warned = new Set<string>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #log: CatalogLogger | undefined;
  readonly #informers: RegistryInformers;
  #seededAfterSync = false;

  constructor(informers: RegistryInformers, log?: CatalogLogger) {
    this.#log = log;
    this.#informers = informers;
    const { modules, versions } = informers;
    // Subscribe before seeding so nothing that changes in between is missed; upserts are idempotent.
    this.#unsubscribe.push(
      modules.on('add', (m) => this.#upsertModule(m)),
      modules.on('update', (m) => this.#upsertModule(m)),
      modules.on('delete', (m) => this.#removeModule(m)),
      versions.on('add', (v) => this.#upsertVersion(v)),
      versions.on('update', (v) => this.#upsertVersion(v)),
      versions.on('delete', (v) => this.#removeVersion(v)),
    );
    this.#seed();
  }

  /** The module served at `namespace/name/system` (case-insensitive), if any. */
  find(namespace: string, name: string, system: string): ModuleView | undefined {
    if (!this.#seededAfterSync) this.#seed();
    const claimants = this.#modulesByAddress.get(addressKey(namespace, name, system));
    if (claimants === undefined || claimants.size === 0) return undefined;
    let module: Module | undefined;
    for (const candidate of claimants.values()) {
      if (module === undefined || olderFirst(candidate, module) < 0) module = candidate;
    }
    if (claimants.size > 1) this.#warnOnce(`conflict:${addressKey(namespace, name, system)}`, { modules: [...claimants.keys()] }, 'several Modules claim one registry address; the oldest is served');
    return this.#view(module!);
  }

  /** Every module served (one per registry address), for the browse UI. */
  all(): ModuleView[] {
    if (!this.#seededAfterSync) this.#seed();
    const views: ModuleView[] = [];
    for (const key of this.#modulesByAddress.keys()) {
      const [namespace = '', name = '', system = ''] = key.split('/');
      const view = this.find(namespace, name, system);
      if (view !== undefined) views.push(view);
    }
    return views;
  }

  /** How many objects the indexes hold. */
  size(): { modules: number; versions: number } {
    return { modules: this.#addressOfModule.size, versions: this.#ownerOfVersion.size };
  }

  /** Stops following the informers. */
  dispose(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  // Seeds from the caches once more when they have synced, in case the first list filled
  // them without 'add' events; until then every call tries again (cheap while they are empty).
  #seed(): void {
    const { modules, versions } = this.#informers;
    const synced = modules.synced() && versions.synced();
    for (const m of modules.list()) this.#upsertModule(m);
    for (const v of versions.list()) this.#upsertVersion(v);
    this.#seededAfterSync = synced;
  }

  #view(module: Module): ModuleView {
    const key = keyOf(module.metadata.namespace, module.metadata.name);
    const cached = this.#views.get(key);
    if (cached !== undefined && cached.module === module) return cached;
    const view = this.#buildView(module, this.#versionsByOwner.get(key)?.versions);
    this.#views.set(key, view);
    return view;
  }

  #buildView(module: Module, owned: Map<string, Version> | undefined): ModuleView {
    const versions = new Map<string, ModuleVersionEntry>();
    // Parsed once here, so sorting compares numbers instead of parsing at every comparison.
    const parsedOf = new Map<ModuleVersionEntry, ParsedVersion>();
    for (const [resource, version] of owned ?? []) {
      const parsed = tryParseVersion(version.spec.version);
      if (typeof parsed === 'string') {
        this.#warnOnce(`version:${resource}:${version.spec.version}`, { version: resource }, `Version is not served: ${parsed}`);
        continue;
      }
      // The spelling the Version already holds when it is canonical: one string per version, not two.
      const canonical = parsed.canonical === version.spec.version ? version.spec.version : parsed.canonical;
      const entry: ModuleVersionEntry = { version: canonical, resource, state: versionState(version) };
      parsedOf.set(entry, parsed);
      if (entry.state.kind !== 'ready' && entry.state.foreignStorageKey !== undefined) this.#warnForeignKey(resource, entry.state.foreignStorageKey);
      const existing = versions.get(entry.version);
      // Two Versions for one version should not happen; prefer the servable one, then the name.
      if (existing === undefined || (existing.state.kind !== 'ready' && (entry.state.kind === 'ready' || resource < existing.resource))) {
        versions.set(entry.version, entry);
      }
    }
    const ready = [...versions.values()].filter((e) => e.state.kind === 'ready').sort((a, b) => compareVersions(parsedOf.get(a)!, parsedOf.get(b)!));
    const config = module.spec.moduleConfig;
    return {
      module,
      address: `${module.metadata.namespace ?? ''}/${config.name}/${config.provider}`,
      versions,
      ready,
      versionsAnswer: new EncodedAnswer(JSON.stringify({ modules: [{ versions: ready.map((e) => ({ version: e.version })) }] })),
    };
  }

  #upsertModule(module: Module): void {
    const key = keyOf(module.metadata.namespace, module.metadata.name);
    const address = moduleAddressKey(module);
    const previous = this.#addressOfModule.get(key);
    if (previous !== undefined && previous !== address) this.#modulesByAddress.get(previous)?.delete(key);
    let claimants = this.#modulesByAddress.get(address);
    if (claimants === undefined) this.#modulesByAddress.set(address, (claimants = new Map()));
    claimants.set(key, module);
    this.#addressOfModule.set(key, address);
    this.#views.delete(key);
  }

  #removeModule(module: Module): void {
    const key = keyOf(module.metadata.namespace, module.metadata.name);
    const address = this.#addressOfModule.get(key);
    if (address !== undefined) {
      const claimants = this.#modulesByAddress.get(address);
      claimants?.delete(key);
      if (claimants?.size === 0) this.#modulesByAddress.delete(address);
    }
    this.#addressOfModule.delete(key);
    this.#views.delete(key);
  }

  #upsertVersion(version: Version): void {
    // Provider Versions are indexed by the provider protocol, not here.
    if (version.spec.kind !== 'Module') return;
    const key = keyOf(version.metadata.namespace, version.metadata.name);
    const ownerKey = keyOf(version.metadata.namespace, version.spec.ownerName);
    const previous = this.#ownerOfVersion.get(key);
    if (previous !== undefined && previous !== ownerKey) this.#detachVersion(key, previous);
    let owned = this.#versionsByOwner.get(ownerKey);
    if (owned === undefined) this.#versionsByOwner.set(ownerKey, (owned = { owner: ownerKey, versions: new Map() }));
    owned.versions.set(key, version);
    this.#ownerOfVersion.set(key, owned.owner);
    this.#views.delete(ownerKey);
  }

  #removeVersion(version: Version): void {
    const key = keyOf(version.metadata.namespace, version.metadata.name);
    const owner = this.#ownerOfVersion.get(key);
    if (owner !== undefined) this.#detachVersion(key, owner);
    this.#ownerOfVersion.delete(key);
  }

  #detachVersion(key: string, owner: string): void {
    const owned = this.#versionsByOwner.get(owner);
    owned?.versions.delete(key);
    if (owned?.versions.size === 0) this.#versionsByOwner.delete(owner);
    this.#views.delete(owner);
  }

  #warnForeignKey(resource: string, storageKey: string): void {
    this.#warnOnce(`foreign-key:${resource}:${storageKey}`, { version: resource, storageKey }, FOREIGN_KEY_MESSAGE);
  }

  #warnOnce(id: string, details: Record<string, unknown>, message: string): void {
    if (this.#warned.has(id)) return;
    this.#warned.add(id);
    this.#log?.warn(message, details);
  }
}
