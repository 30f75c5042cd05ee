/**
 * What a Depot entry becomes: the Module or Provider it manages, with the `global` defaults
 * merged under the entry's own settings, and the upstream versions its constraints select.
 * Pure functions, so the merge and selection rules are easy to test.
 */
import {
  API_VERSION,
  GROUP,
  MODULE_DEFAULTS,
  PROVIDER_DEFAULTS,
  compareVersions,
  mergePresign,
  normalizeVersion,
  parseConstraints,
  tryParseVersion,
  type Depot,
  type DepotModuleConfig,
  type DepotProviderConfig,
  type Module,
  type Provider,
  type StorageConfig,
} from '@opendepot/core';
import { InputError } from '@opendepot/sdk';

/** Label on every Module and Provider a Depot manages (no owner reference: deleting the Depot leaves them). */
export const DEPOT_LABEL = `${GROUP}/depot`;
/** Annotation that asks a Depot to poll now; any new value triggers one poll. */
export const REQUESTED_POLL_ANNOTATION = `${GROUP}/requested-poll`;
/** The field manager of the Depot's server-side applies: it owns only the fields it sets. */
export const DEPOT_FIELD_MANAGER = 'opendepot-depot';

/** The upstream versions that match `constraints`, newest first, de-duplicated. */
export function selectVersions(found: readonly string[], constraints: string, where: string): string[] {
  let parsed;
  try {
    parsed = parseConstraints(constraints);
  } catch (err) {
    throw new InputError(`${where}: ${(err as Error).message}`, { field: where });
  }
  const unique = new Set<string>();
  for (const v of found) if (typeof tryParseVersion(v) !== 'string') unique.add(normalizeVersion(v));
  return [...unique].filter((v) => parsed.matches(v)).sort((a, b) => compareVersions(b, a));
}

/** The versions to apply: what the Module already lists plus the newly selected, so a Depot never removes a version. */
export function mergedVersions(current: readonly { version: string }[] | undefined, selected: readonly string[]): { version: string }[] {
  const all = new Set((current ?? []).map((v) => normalizeVersion(v.version)));
  for (const v of selected) all.add(v);
  return [...all].sort((a, b) => compareVersions(a, b)).map((version) => ({ version }));
}

/**
 * An entry's storage: its own storageConfig, else the global one; the global `presign` applies
 * to an entry's own backend too, field by field under the entry's own presign fields (presign
 * reads the entry, then the Depot, then the storage profile, then the chart default).
 */
export function entryStorage(entry: StorageConfig | undefined, global: StorageConfig | undefined): StorageConfig | undefined {
  if (!entry) return global;
  const presign = mergePresign(entry.presign, global?.presign);
  return presign ? { ...entry, presign } : entry;
}

/** The Module a module entry manages (the object to server-side apply). */
export function moduleFor(depot: Depot, entry: DepotModuleConfig, versions: { version: string }[]): Module {
  const g = depot.spec.global;
  const defaults = g?.moduleConfig ?? {};
  const { storageConfig, githubClientConfig, scanning, ...config } = entry;
  const moduleConfig = {
    ...config,
    fileFormat: config.fileFormat ?? defaults.fileFormat ?? MODULE_DEFAULTS.fileFormat,
    immutable: config.immutable ?? defaults.immutable ?? MODULE_DEFAULTS.immutable,
    ...(config.versionHistoryLimit === undefined && defaults.versionHistoryLimit !== undefined && { versionHistoryLimit: defaults.versionHistoryLimit }),
    ...(config.source === undefined && defaults.source !== undefined && { source: defaults.source }),
  };
  const storage = entryStorage(storageConfig, g?.storageConfig);
  const github = githubClientConfig ?? g?.githubClientConfig;
  return {
    apiVersion: API_VERSION,
    kind: 'Module',
    metadata: { name: entry.name, namespace: depot.metadata.namespace!, labels: { [DEPOT_LABEL]: depot.metadata.name! } },
    spec: { moduleConfig, ...(storage && { storageConfig: storage }), ...(github && { githubClientConfig: github }), ...(scanning && { scanning }), versions },
  };
}

/** The Provider a provider entry manages (the object to server-side apply). */
export function providerFor(depot: Depot, entry: DepotProviderConfig, versions: { version: string }[]): Provider {
  const g = depot.spec.global;
  const defaults = g?.providerConfig ?? {};
  const { storageConfig, scanning, ...config } = entry;
  const operatingSystems = config.operatingSystems ?? defaults.operatingSystems;
  const architectures = config.architectures ?? defaults.architectures;
  if (!operatingSystems || !architectures) throw new InputError(`providerConfigs ${entry.name}: operatingSystems and architectures are required (here or in global.providerConfig)`);
  const source = config.source ?? defaults.source ?? PROVIDER_DEFAULTS.source;
  const registryUrl = config.registryUrl ?? (source === 'registry' ? defaults.registryUrl : undefined);
  const providerConfig = {
    ...config,
    namespace: config.namespace ?? defaults.namespace ?? PROVIDER_DEFAULTS.namespace,
    operatingSystems,
    architectures,
    source,
    ...(registryUrl !== undefined && { registryUrl }),
    immutable: config.immutable ?? defaults.immutable ?? PROVIDER_DEFAULTS.immutable,
    ...(config.versionHistoryLimit === undefined && defaults.versionHistoryLimit !== undefined && { versionHistoryLimit: defaults.versionHistoryLimit }),
  };
  const storage = entryStorage(storageConfig, g?.storageConfig);
  return {
    apiVersion: API_VERSION,
    kind: 'Provider',
    metadata: { name: entry.name, namespace: depot.metadata.namespace!, labels: { [DEPOT_LABEL]: depot.metadata.name! } },
    spec: { providerConfig, ...(storage && { storageConfig: storage }), ...(scanning && { scanning }), versions },
  };
}
