/**
 * What the Provider controller wants the cluster to hold: one Version per listed version
 * (cut to `versionHistoryLimit`) × operating system × architecture, and the per-platform
 * progress that goes into the Provider's status.
 */
import { PROVIDER_DEFAULTS, providerStorageConfig, type Provider, type StorageConfig, type Version, type VersionSpec } from '@opendepot/core';
import { versionObjectName } from './naming.ts';
import { diffVersions, isReady, listedVersions, versionLabels, type VersionPlan, type WantedVersion } from './version-plan.ts';

/** The plan of a Provider, with the identities (`version/os_arch`) it wants. */
export interface ProviderPlan extends VersionPlan {
  wanted: string[];
}

/** The spec of the Version of `version` for one platform of `provider`. */
export function providerVersionSpec(provider: Provider, version: string, os: string, arch: string, defaultStorage: StorageConfig | undefined): VersionSpec {
  const pc = provider.spec.providerConfig;
  const storageConfig = providerStorageConfig(provider.spec) ?? defaultStorage;
  if (!storageConfig) {
    throw new Error('no storageConfig: set spec.storageConfig on the Provider, or a default storageConfig in the operator configuration');
  }
  return {
    kind: 'Provider',
    ownerName: provider.metadata.name!,
    version,
    operatingSystem: os as VersionSpec['operatingSystem'],
    architecture: arch as VersionSpec['architecture'],
    provider: {
      name: pc.name,
      namespace: pc.namespace ?? PROVIDER_DEFAULTS.namespace,
      source: pc.source ?? PROVIDER_DEFAULTS.source,
      ...(pc.registryUrl !== undefined && { registryUrl: pc.registryUrl }),
    },
    fileFormat: 'zip',
    storageConfig,
    immutable: pc.immutable ?? PROVIDER_DEFAULTS.immutable,
    ...(provider.spec.scanning && { scanning: provider.spec.scanning }),
    // The first platform's Version also scans the version's source, once for all platforms.
    ...(os === pc.operatingSystems[0] && arch === pc.architectures[0] && { sourceScan: pc.sourceRepository ? { repository: pc.sourceRepository } : {} }),
  };
}

/** Plans the Versions of `provider` given the Versions it owns now. */
export function planProvider(provider: Provider, owned: readonly Version[], defaultStorage: StorageConfig | undefined): ProviderPlan {
  const pc = provider.spec.providerConfig;
  const { wanted: versions, listed } = listedVersions(provider.spec.versions, pc.versionHistoryLimit);
  const entries: WantedVersion[] = [];
  for (const version of versions) {
    for (const os of pc.operatingSystems) {
      for (const arch of pc.architectures) {
        entries.push({
          name: versionObjectName(provider.metadata.name!, version, { os, arch }),
          labels: { ...versionLabels('Provider', provider.metadata.name!, version), 'opendepot.defdev.io/platform': `${os}_${arch}` },
          spec: providerVersionSpec(provider, version, os, arch, defaultStorage),
        });
      }
    }
  }
  const plan = diffVersions(entries, owned, { immutable: pc.immutable ?? PROVIDER_DEFAULTS.immutable, listed });
  return { ...plan, wanted: entries.map((e) => `${e.spec.version}/${e.spec.operatingSystem}_${e.spec.architecture}`) };
}

/** Per-platform progress of a Provider's wanted Versions. */
export function platformStatus(provider: Provider, relevant: readonly Version[], wanted: readonly string[]) {
  const pc = provider.spec.providerConfig;
  const platforms = pc.operatingSystems.flatMap((os) => pc.architectures.map((arch) => `${os}_${arch}`));
  return platforms.map((platform) => {
    const total = wanted.filter((w) => w.endsWith(`/${platform}`)).length;
    const mine = relevant.filter((v) => `${v.spec.operatingSystem}_${v.spec.architecture}` === platform);
    const synced = mine.filter(isReady).length;
    const failing = mine.find((v) => !isReady(v) && v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'));
    const message = failing?.status?.conditions?.find((c) => c.type === 'Ready')?.message;
    return { platform, versionsSynced: synced, versionsTotal: total, ready: synced === total, ...(message && { message: `${failing!.spec.version}: ${message}`.slice(0, 1024) }) };
  });
}
