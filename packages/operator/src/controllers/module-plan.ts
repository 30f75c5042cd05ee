/**
 * What the Module controller wants the cluster to hold: one Version per listed version (cut to
 * `versionHistoryLimit`), with the module's coordinates, format and storage copied in.
 */
import { MODULE_DEFAULTS, moduleGithubClientConfig, moduleStorageConfig, type Module, type StorageConfig, type Version, type VersionSpec } from '@opendepot/core';
import { versionObjectName } from './naming.ts';
import { diffVersions, listedVersions, versionLabels, type VersionPlan, type WantedVersion } from './version-plan.ts';

/** The plan of a Module, with the versions it wants (newest first). */
export interface ModulePlan extends VersionPlan {
  wanted: string[];
}

/** The listed versions of a Module, normalised, newest first, cut to the history limit. */
export function wantedVersions(module: Module): string[] {
  return listedVersions(module.spec.versions, module.spec.moduleConfig.versionHistoryLimit).wanted;
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
    ...(module.spec.scanning && { scanning: module.spec.scanning }),
  };
}

/** Plans the Versions of `module` given the Versions it owns now. */
export function planModule(module: Module, owned: readonly Version[], defaultStorage: StorageConfig | undefined): ModulePlan {
  const { wanted, listed } = listedVersions(module.spec.versions, module.spec.moduleConfig.versionHistoryLimit);
  const entries: WantedVersion[] = wanted.map((version) => ({
    name: versionObjectName(module.metadata.name!, version),
    labels: versionLabels('Module', module.metadata.name!, version),
    spec: versionSpecFor(module, version, defaultStorage),
  }));
  const plan = diffVersions(entries, owned, { immutable: module.spec.moduleConfig.immutable ?? MODULE_DEFAULTS.immutable, listed });
  return { ...plan, wanted };
}

/** A Module's `status.scan`: its relevant Versions' scan summaries added up (removed when none is scanned). */
export function moduleScanStatus(module: Module, relevant: readonly Version[]): { scan?: NonNullable<NonNullable<Module['status']>['scan']> | null } {
  const scanned = relevant.filter((v) => v.status?.scan !== undefined);
  if (scanned.length === 0) return module.status?.scan ? { scan: null } : {};
  const sum = (field: 'critical' | 'high' | 'medium' | 'low' | 'unknown') => scanned.reduce((n, v) => n + (v.status!.scan![field] ?? 0), 0);
  const blockedVersions = scanned
    .filter((v) => v.status!.scan!.blocked === true)
    .map((v) => v.spec.version)
    .sort();
  return { scan: { scannedVersions: scanned.length, critical: sum('critical'), high: sum('high'), medium: sum('medium'), low: sum('low'), unknown: sum('unknown'), blockedVersions } };
}
