/**
 * What the Module controller wants the cluster to hold: the pure part of its reconcile, kept
 * apart from the API calls so every rule (history limit, immutability, forceSync) is easy to test.
 */
import {
  API_VERSION,
  compareVersions,
  MODULE_DEFAULTS,
  moduleGithubClientConfig,
  moduleStorageConfig,
  normalizeVersion,
  type Module,
  type StorageConfig,
  type Version,
  type VersionSpec,
} from '@opendepot/core';
import { OWNER_KIND_LABEL, OWNER_NAME_LABEL, VERSION_FINALIZER, VERSION_LABEL, labelValue, versionObjectName } from './naming.ts';

/** A Version the Module should have, as it should look. */
export interface WantedVersion {
  name: string;
  labels: Record<string, string>;
  spec: VersionSpec;
}

/** The changes that bring the cluster in line with a Module. */
export interface ModulePlan {
  /** Versions to create. */
  create: WantedVersion[];
  /** Existing Versions whose spec must change (name → new spec). */
  update: WantedVersion[];
  /** Existing Versions to delete. */
  remove: string[];
  /** Existing Versions kept although no longer wanted, with the reason (immutable and Ready). */
  kept: { name: string; reason: string }[];
  /** The versions wanted, newest first. */
  wanted: string[];
}

/** True when a Version's Ready condition is True. */
export function isReady(v: Pick<Version, 'status'>): boolean {
  return v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The listed versions, normalised and de-duplicated, newest first, cut to the history limit. */
export function wantedVersions(module: Module): string[] {
  const seen = new Set<string>();
  for (const { version } of module.spec.versions ?? []) seen.add(normalizeVersion(version));
  const sorted = [...seen].sort((a, b) => compareVersions(b, a));
  const limit = module.spec.moduleConfig.versionHistoryLimit;
  return limit ? sorted.slice(0, limit) : sorted;
}

/** The spec of the Version for `version` of `module`. */
export function versionSpecFor(module: Module, version: string, defaultStorage: StorageConfig | undefined): VersionSpec {
  const mc = module.spec.moduleConfig;
  const storageConfig = moduleStorageConfig(module.spec) ?? defaultStorage;
  if (!storageConfig) {
    throw new Error('no storageConfig: set spec.storageConfig on the Module, or a default storageConfig in the operator configuration');
  }
  const github = moduleGithubClientConfig(module.spec);
  return {
    kind: 'Module',
    ownerName: module.metadata.name!,
    version,
    module: {
      name: mc.name,
      provider: mc.provider,
      ...(mc.repoOwner !== undefined && { repoOwner: mc.repoOwner }),
      ...(mc.repoUrl !== undefined && { repoUrl: mc.repoUrl }),
      ...(mc.source !== undefined && { source: mc.source }),
      ...(github !== undefined && { githubClientConfig: github }),
    },
    fileFormat: mc.fileFormat ?? MODULE_DEFAULTS.fileFormat,
    storageConfig,
    immutable: mc.immutable ?? MODULE_DEFAULTS.immutable,
  };
}

/** The labels of a Module's Version. */
export function versionLabels(ownerKind: 'Module' | 'Provider', ownerName: string, version: string): Record<string, string> {
  return {
    [OWNER_KIND_LABEL]: ownerKind,
    [OWNER_NAME_LABEL]: labelValue(ownerName),
    [VERSION_LABEL]: labelValue(version),
    'app.kubernetes.io/managed-by': 'opendepot',
  };
}

/** Compares the fields a Module decides; `forceSync` and the immutable fields are handled apart. */
function sameSpec(a: VersionSpec, b: VersionSpec): boolean {
  const pick = (s: VersionSpec) => JSON.stringify([s.module, s.fileFormat, s.storageConfig, s.immutable ?? false]);
  return pick(a) === pick(b);
}

/**
 * Plans the Versions of `module` given the Versions it owns now. A Version no longer wanted is
 * removed, except while the Module is immutable and that Version is Ready: an immutable
 * registry never loses a served version because a list was edited.
 */
export function planModule(module: Module, owned: readonly Version[], defaultStorage: StorageConfig | undefined): ModulePlan {
  const wanted = wantedVersions(module);
  const byVersion = new Map(owned.map((v) => [normalizeVersion(v.spec.version), v]));
  const plan: ModulePlan = { create: [], update: [], remove: [], kept: [], wanted };
  const immutable = module.spec.moduleConfig.immutable ?? MODULE_DEFAULTS.immutable;
  const listed = new Set((module.spec.versions ?? []).map((v) => normalizeVersion(v.version)));
  for (const version of wanted) {
    const spec = versionSpecFor(module, version, defaultStorage);
    const labels = versionLabels('Module', module.metadata.name!, version);
    const existing = byVersion.get(version);
    if (!existing) {
      plan.create.push({ name: versionObjectName(module.metadata.name!, version), labels, spec });
    } else if (!sameSpec(existing.spec, spec) && !(existing.spec.immutable && isReady(existing))) {
      plan.update.push({ name: existing.metadata.name!, labels, spec });
    }
  }
  const keep = new Set(wanted);
  for (const [version, v] of byVersion) {
    if (keep.has(version)) continue;
    // The history limit is an explicit instruction; an edited list on an immutable Module is not.
    const cutByLimit = listed.has(version);
    if (immutable && isReady(v) && !cutByLimit) {
      plan.kept.push({ name: v.metadata.name!, reason: `version ${version} is Ready and the Module is immutable` });
      continue;
    }
    plan.remove.push(v.metadata.name!);
  }
  return plan;
}

/** A new Version object for a planned entry, owned by the Module. */
export function versionObject(module: Module, wanted: WantedVersion): Version {
  return {
    apiVersion: API_VERSION,
    kind: 'Version',
    metadata: {
      name: wanted.name,
      namespace: module.metadata.namespace!,
      labels: wanted.labels,
      finalizers: [VERSION_FINALIZER],
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'Module', name: module.metadata.name!, uid: module.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: wanted.spec,
  };
}

/** The highest Ready version among `versions`, if any. */
export function latestReady(versions: readonly Version[]): string | undefined {
  const ready = versions.filter(isReady).map((v) => normalizeVersion(v.spec.version));
  return ready.sort((a, b) => compareVersions(b, a))[0];
}
