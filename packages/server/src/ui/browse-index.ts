/**
 * What the browse UI and its JSON API list: every module and provider the informer caches hold,
 * summarized from their Versions' status (latest servable version, the README's first paragraph,
 * scan counts), searchable by name, provider and description. The caller's grants are applied by
 * the routes; nothing here reads storage.
 */
import type { Informer, ScanSummary, Version } from '@opendepot/core';
import type { ModuleCatalog, ModuleView } from '../catalog/module-catalog.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import type { ProviderView } from '../catalog/provider-view.ts';

/** Findings by severity, as a scan summary counts them. */
export interface FindingCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** One module in the list. */
export interface ModuleEntry {
  kind: 'module';
  namespace: string;
  /** The Module resource's name (what grants name). */
  resource: string;
  name: string;
  provider: string;
  /** The latest servable version, if any. */
  latest?: string;
  versions: number;
  description?: string;
  /** Findings of the latest servable version's scan, when it was scanned. */
  findings?: FindingCounts;
}

/** One provider in the list. */
export interface ProviderEntry {
  kind: 'provider';
  namespace: string;
  /** The Provider resource's name (what grants name). */
  resource: string;
  type: string;
  latest?: string;
  versions: number;
  /** The platforms of the latest version, `os_arch`. */
  platforms: string[];
  /** Distinct findings over the latest version's platforms. */
  findings?: FindingCounts;
}

export type CatalogEntry = ModuleEntry | ProviderEntry;

/** What a list request asks for. */
export interface ListQuery {
  /** Words that must each appear in the name, provider/type, namespace or description (case-insensitive). */
  q?: string;
  namespace?: string;
  kind?: 'module' | 'provider';
  /** Only entries whose latest version has findings. */
  withFindings?: boolean;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

/** The counts of a scan summary. */
export function countsOf(scan: ScanSummary | undefined): FindingCounts | undefined {
  if (!scan) return undefined;
  return { critical: scan.critical ?? 0, high: scan.high ?? 0, medium: scan.medium ?? 0, low: scan.low ?? 0, unknown: scan.unknown ?? 0 };
}

/** Whether `counts` has any finding. */
export function hasFindings(counts: FindingCounts | undefined): boolean {
  return counts !== undefined && SEVERITIES.some((s) => counts[s] > 0);
}

/** The Version resource `namespace/name` from the informer cache. */
export function versionOf(versions: Informer<Version>, resource: string): Version | undefined {
  const slash = resource.indexOf('/');
  return versions.get(resource.slice(0, slash), resource.slice(slash + 1));
}

/** The list entry of a module. */
export function moduleEntry(view: ModuleView, versions: Informer<Version>): ModuleEntry {
  const config = view.module.spec.moduleConfig;
  const latest = view.ready.at(-1);
  const version = latest && versionOf(versions, latest.resource);
  const description = version?.status?.docs?.description;
  const findings = countsOf(version?.status?.scan);
  return {
    kind: 'module',
    namespace: view.module.metadata.namespace ?? '',
    resource: view.module.metadata.name ?? '',
    name: config.name,
    provider: config.provider,
    ...(latest && { latest: latest.version }),
    versions: view.ready.length,
    ...(description !== undefined && { description }),
    ...(findings && { findings }),
  };
}

/** Distinct findings over `scans` (one per id, package and installed version), counted by severity. */
export function distinctCounts(scans: readonly (ScanSummary | undefined)[]): FindingCounts | undefined {
  const present = scans.filter((s): s is ScanSummary => s !== undefined);
  if (present.length === 0) return undefined;
  const seen = new Map<string, string>();
  for (const scan of present) for (const f of scan.findings ?? []) seen.set(JSON.stringify([f.id, f.pkg ?? '', f.installedVersion ?? '']), f.severity.toLowerCase());
  const counts: FindingCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const severity of seen.values()) if (severity in counts) counts[severity as keyof FindingCounts]++;
  return counts;
}

/** The list entry of a provider. */
export function providerEntry(view: ProviderView, versions: Informer<Version>): ProviderEntry {
  const latest = view.ready.at(-1);
  const platforms = latest ? [...latest.platforms.values()] : [];
  const findings = distinctCounts(platforms.map((p) => versionOf(versions, p.resource)?.status?.scan));
  return {
    kind: 'provider',
    namespace: view.namespace,
    resource: view.owner,
    type: view.type,
    ...(latest && { latest: latest.version }),
    versions: view.ready.length,
    platforms: platforms
      .filter((p) => p.state.kind === 'ready')
      .map((p) => p.key)
      .sort(),
    ...(findings && { findings }),
  };
}

/** Everything listed, modules then providers, each sorted by namespace and name. */
export function catalogEntries(modules: ModuleCatalog, providers: ProviderCatalog, versions: Informer<Version>): CatalogEntry[] {
  const byName = (a: CatalogEntry, b: CatalogEntry) => a.namespace.localeCompare(b.namespace) || nameOf(a).localeCompare(nameOf(b));
  return [
    ...modules
      .all()
      .map((v) => moduleEntry(v, versions))
      .sort(byName),
    ...providers
      .all()
      .map((v) => providerEntry(v, versions))
      .sort(byName),
  ];
}

function nameOf(entry: CatalogEntry): string {
  return entry.kind === 'module' ? `${entry.name}/${entry.provider}` : entry.type;
}

/** The test of `query` against an entry (the query's words split once, not per entry). */
export function matcher(query: ListQuery): (entry: CatalogEntry) => boolean {
  const words = (query.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  return (entry) => {
    if (query.kind !== undefined && entry.kind !== query.kind) return false;
    if (query.namespace !== undefined && query.namespace !== '' && entry.namespace !== query.namespace) return false;
    if (query.withFindings === true && !hasFindings(entry.findings)) return false;
    if (words.length === 0) return true;
    const text = searchTextOf(entry);
    return words.every((w) => text.includes(w));
  };
}

// Entries are kept between requests (CatalogListing), so their search text is made once each.
const searchTexts = new WeakMap<CatalogEntry, string>();

function searchTextOf(entry: CatalogEntry): string {
  let text = searchTexts.get(entry);
  if (text === undefined) {
    text = (entry.kind === 'module' ? [entry.namespace, entry.name, entry.provider, entry.description ?? ''] : [entry.namespace, entry.type, 'provider']).join(' ').toLowerCase();
    searchTexts.set(entry, text);
  }
  return text;
}
