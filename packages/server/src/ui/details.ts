/**
 * The module and provider pages' content (and the JSON API's detail answers): versions, the
 * selected version's documentation and scan, and the snippets to paste, for one module or
 * provider the caller may read.
 */
import { compareVersions, type Informer, type ModuleDocs, type ScanSummary, type Version } from '@opendepot/core';
import type { ModuleView } from '../catalog/module-catalog.ts';
import type { ProviderView } from '../catalog/provider-view.ts';
import type { DocsStore } from './docs-store.ts';
import { moduleEntry, providerEntry, versionOf, type ModuleEntry, type ProviderEntry } from './browse-index.ts';

/** A version's state as the pages show it. */
export type ShownState = 'ready' | 'syncing' | 'stalled' | 'blocked' | 'removing';

/** The scan of one version as shown: its summary (never the reportKey: storage addresses stay inside). */
export interface ShownScan {
  scanner?: string;
  scannedAt?: string;
  blocked: boolean;
  counts: { critical: number; high: number; medium: number; low: number; unknown: number };
  findings: NonNullable<ScanSummary['findings']>;
  ignored: NonNullable<ScanSummary['ignored']>;
}

/** A module page. */
export interface ModuleDetail {
  entry: ModuleEntry;
  versions: { version: string; state: ShownState }[];
  /** The version shown (the requested one, else the latest servable). */
  selected?: { version: string; state: ShownState; docs?: ModuleDocs; scan?: ShownScan };
  /** A `module` block for this registry's host. */
  usage: string;
}

/** A provider page. */
export interface ProviderDetail {
  entry: ProviderEntry;
  versions: { version: string; platforms: { platform: string; state: ShownState }[]; protocols: string[] }[];
  selected?: { version: string; platforms: { platform: string; state: ShownState; scan?: ShownScan }[] };
  signingKeyId?: string;
  /** A `required_providers` block, and a CLI configuration `network_mirror` block. */
  requiredProviders: string;
  networkMirror: string;
}

function shownScan(scan: ScanSummary | undefined): ShownScan | undefined {
  if (!scan) return undefined;
  return {
    ...(scan.scanner !== undefined && { scanner: scan.scanner }),
    ...(scan.scannedAt !== undefined && { scannedAt: scan.scannedAt }),
    blocked: scan.blocked === true,
    counts: { critical: scan.critical ?? 0, high: scan.high ?? 0, medium: scan.medium ?? 0, low: scan.low ?? 0, unknown: scan.unknown ?? 0 },
    findings: scan.findings ?? [],
    ignored: scan.ignored ?? [],
  };
}

const newestFirst = (a: { version: string }, b: { version: string }) => compareVersions(b.version, a.version);

/** An HCL string literal. */
function hclString(value: string): string {
  // Template sequences are escaped by doubling their sigil.
  return JSON.stringify(value)
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
}

/** The `module` block a caller pastes: source and version, and the required inputs as comments. */
export function moduleUsage(host: string, entry: ModuleEntry, version: string | undefined, docs: ModuleDocs | undefined): string {
  const lines = [`module ${hclString(entry.name)} {`, `  source  = ${hclString(`${host}/${entry.namespace}/${entry.name}/${entry.provider}`)}`];
  if (version !== undefined) lines.push(`  version = ${hclString(version)}`);
  const required = docs?.inputs.filter((i) => i.required) ?? [];
  if (required.length > 0) {
    lines.push('', `  # ${required.length} required input${required.length === 1 ? '' : 's'}:`);
    for (const input of required) lines.push(`  # ${input.name} = <${(input.type ?? 'any').replace(/\s+/g, ' ')}>`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The module page of `view`, for `requested` (a version) or the latest servable one. */
export async function moduleDetail(view: ModuleView, versions: Informer<Version>, docsStore: DocsStore, host: string, requested?: string): Promise<ModuleDetail> {
  const entry = moduleEntry(view, versions);
  const list = [...view.versions.values()].map((e) => ({ version: e.version, state: e.state.kind as ShownState })).sort(newestFirst);
  const chosen = (requested !== undefined ? view.versions.get(requested) : undefined) ?? view.ready.at(-1);
  let selected: ModuleDetail['selected'];
  if (chosen !== undefined) {
    const docs = chosen.state.kind === 'ready' ? await docsStore.read(chosen.state) : undefined;
    const scan = shownScan(versionOf(versions, chosen.resource)?.status?.scan);
    selected = { version: chosen.version, state: chosen.state.kind, ...(docs && { docs }), ...(scan && { scan }) };
  }
  return { entry, versions: list, ...(selected && { selected }), usage: moduleUsage(host, entry, selected?.version, selected?.docs) };
}

/** The provider page of `view`, for `requested` or the latest servable version. */
export function providerDetail(view: ProviderView, versions: Informer<Version>, host: string, mirrorUrl: string, signingKeyId: string | undefined, requested?: string): ProviderDetail {
  const entry = providerEntry(view, versions);
  const list = [...view.releases.values()]
    .map((r) => ({
      version: r.version,
      platforms: [...r.platforms.values()].map((p) => ({ platform: p.key, state: p.state.kind as ShownState })).sort((a, b) => a.platform.localeCompare(b.platform)),
      protocols: [...r.protocols],
    }))
    .sort(newestFirst);
  const release = (requested !== undefined ? view.releases.get(requested) : undefined) ?? view.ready.at(-1);
  const selected = release && {
    version: release.version,
    platforms: [...release.platforms.values()]
      .map((p) => {
        const scan = shownScan(versionOf(versions, p.resource)?.status?.scan);
        return { platform: p.key, state: p.state.kind as ShownState, ...(scan && { scan }) };
      })
      .sort((a, b) => a.platform.localeCompare(b.platform)),
  };
  const source = `${host}/${entry.namespace}/${entry.type}`;
  const constraint = entry.latest !== undefined ? `\n      version = ${hclString(`~> ${entry.latest}`)}` : '';
  return {
    entry,
    versions: list,
    ...(selected && { selected }),
    ...(signingKeyId !== undefined && { signingKeyId }),
    requiredProviders: `terraform {\n  required_providers {\n    ${entry.type} = {\n      source  = ${hclString(source)}${constraint}\n    }\n  }\n}\n`,
    networkMirror: `provider_installation {\n  network_mirror {\n    url = ${hclString(mirrorUrl)}\n  }\n}\n`,
  };
}
