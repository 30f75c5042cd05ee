/**
 * Where a Version's archive is stored. The address is derived from the Version's spec and its
 * namespace only, never read back from status: a status can be written by anyone allowed to
 * patch the status subresource, and a key taken from it could name another namespace's archive.
 */
import type { Version, VersionSpec } from './version.ts';

/** Where a module archive is stored: one directory per namespace/module/system/version. */
export function moduleStorageKey(namespace: string, name: string, system: string, version: string, fileFormat: 'zip' | 'tar.gz'): string {
  return `modules/${namespace}/${name}/${system}/${version}/${name}-${system}-${version}.${fileFormat}`;
}

/** Where a provider package is stored: one directory per namespace/provider/version. */
export function providerStorageKey(namespace: string, providerName: string, version: string, filename: string): string {
  return `providers/${namespace}/${providerName}/${version}/${filename}`;
}

/** Where the full scan findings of an archive are kept: beside it. */
export function scanReportKey(archiveKey: string): string {
  return `${archiveKey}.scan-report.json`;
}

/** Where a module version's documentation (README, inputs, outputs) is kept: beside its archive. */
export function moduleDocsKey(archiveKey: string): string {
  return `${archiveKey}.docs.json`;
}

/** The stored address of a Version's archive, and the file name it is served as. */
export interface ArchiveAddress {
  storageKey: string;
  filename: string;
}

/**
 * The address of the archive of a Version in `namespace` with `spec`, or undefined when the
 * spec lacks what the address is made of (the CRD's rules refuse such a spec).
 */
export function archiveAddress(namespace: string | undefined, spec: VersionSpec | undefined): ArchiveAddress | undefined {
  if (!namespace || !spec?.version) return undefined;
  if (spec.kind === 'Provider') {
    const p = spec.provider;
    if (!p?.name || !spec.ownerName || !spec.operatingSystem || !spec.architecture) return undefined;
    const filename = `terraform-provider-${p.name}_${spec.version}_${spec.operatingSystem}_${spec.architecture}.zip`;
    return { storageKey: providerStorageKey(namespace, spec.ownerName, spec.version, filename), filename };
  }
  const m = spec.module;
  if (spec.kind !== 'Module' || !m?.name || !m.provider || !spec.fileFormat) return undefined;
  return {
    storageKey: moduleStorageKey(namespace, m.name, m.provider, spec.version, spec.fileFormat),
    filename: `${m.name}-${m.provider}-${spec.version}.${spec.fileFormat}`,
  };
}

/** The derived storage key of `version`'s archive (see {@link archiveAddress}). */
export function versionStorageKey(version: Pick<Version, 'metadata' | 'spec'>): string | undefined {
  return archiveAddress(version.metadata.namespace, version.spec)?.storageKey;
}
