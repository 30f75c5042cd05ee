/**
 * The browse list's entries, built once and kept until a Module or Version changes: building
 * them (a view per module, the latest version's docs and scan, a locale-aware sort) was most of
 * the time of a list request with 2,000 modules (see BENCHMARKS.md). The caller's grants and the
 * search are still applied per request, by the routes.
 */
import type { ModuleCatalog } from '../catalog/module-catalog.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import type { RegistryInformers } from '../catalog/types.ts';
import { catalogEntries, type CatalogEntry } from './browse-index.ts';

const EVENTS = ['add', 'update', 'delete'] as const;

/** Every listed module and provider, cached between requests and dropped on any informer event. */
export class CatalogListing {
  readonly #modules: ModuleCatalog;
  readonly #providers: ProviderCatalog;
  readonly #informers: RegistryInformers;
  readonly #unsubscribe: (() => void)[] = [];
  #entries: readonly CatalogEntry[] | undefined;

  constructor(modules: ModuleCatalog, providers: ProviderCatalog, informers: RegistryInformers) {
    this.#modules = modules;
    this.#providers = providers;
    this.#informers = informers;
    // Only marks the entries stale: they are rebuilt by the next request, after every catalog has seen the event.
    const stale = () => (this.#entries = undefined);
    for (const informer of [informers.modules, informers.versions]) for (const event of EVENTS) this.#unsubscribe.push(informer.on(event, stale));
  }

  /** The entries, modules then providers, each sorted by namespace and name. */
  entries(): readonly CatalogEntry[] {
    if (this.#entries !== undefined) return this.#entries;
    const entries = catalogEntries(this.#modules, this.#providers, this.#informers.versions);
    // Before the caches have synced their first list may arrive without events: nothing is kept then.
    if (this.#informers.modules.synced() && this.#informers.versions.synced()) this.#entries = entries;
    return entries;
  }

  /** Stops following the informers. */
  dispose(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}
