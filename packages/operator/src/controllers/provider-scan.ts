/**
 * A Provider's `status.scan`: its Versions' findings deduplicated into one per (id, package,
 * installed version), each listing the versions and platforms it was found on and whether the
 * binaries, the source or both have it. Counts are over the distinct findings, so a CVE in all
 * eight platforms' binaries counts once.
 */
import type { Provider, ProviderFinding, ProviderScanStatus, Version } from '@opendepot/core';
import { MAX_STATUS_FINDINGS, bySeverity, findingKey, type StatusFinding } from './scan-findings.ts';

/** Where a scan looked: a platform's binary, or the provider's source (one per version). */
export type ScanOrigin = 'binary' | 'source';

/** One scanned thing's findings, as the aggregate takes them. */
export interface ScannedPart {
  version: string;
  /** os_arch for a binary; none for the source. */
  platform?: string;
  origin: ScanOrigin;
  findings: readonly StatusFinding[];
}

/** The source scans recorded by the Versions that carry them (one per provider version). */
export function sourceParts(versions: readonly Version[]): ScannedPart[] {
  return versions
    .filter((v) => v.spec.sourceScan && v.status?.sourceScan?.state === 'Scanned' && v.status.sourceScan.version === v.spec.version)
    .map((v) => ({ version: v.spec.version, origin: 'source' as const, findings: v.status!.sourceScan!.findings ?? [] }));
}

/** Each provider version's source scan state, for `status.scan.sources`. */
function sourceStates(versions: readonly Version[]): NonNullable<ProviderScanStatus['sources']> {
  return versions
    .filter((v) => v.spec.sourceScan && v.status?.sourceScan?.version === v.spec.version)
    .map((v) => {
      const s = v.status!.sourceScan!;
      return { version: s.version, state: s.state, ...(s.repository && { repository: s.repository }), ...(s.message && { message: s.message }) };
    })
    .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }))
    .slice(0, 100);
}

/** The binary scans recorded in a Provider's Versions' status. */
export function binaryParts(versions: readonly Version[]): ScannedPart[] {
  return versions
    .filter((v) => v.status?.scan)
    .map((v) => ({ version: v.spec.version, platform: `${v.spec.operatingSystem}_${v.spec.architecture}`, origin: 'binary' as const, findings: v.status!.scan!.findings ?? [] }));
}

function addTo(list: string[] | undefined, value: string | undefined): string[] | undefined {
  if (value === undefined) return list;
  const next = new Set(list ?? []);
  next.add(value);
  return [...next].sort();
}

/** Deduplicates the findings of `parts`; `blocked` lists the refused version/os_arch. */
export function aggregateProviderScan(parts: readonly ScannedPart[], blocked: readonly string[] = []): ProviderScanStatus {
  const unique = new Map<string, ProviderFinding>();
  for (const part of parts) {
    for (const f of part.findings) {
      const key = findingKey(f);
      const seen = unique.get(key);
      const from = seen && seen.from !== part.origin ? 'both' : part.origin;
      const versions = addTo(seen?.versions, part.version)!;
      const platforms = addTo(seen?.platforms, part.platform);
      unique.set(key, {
        id: f.id,
        severity: f.severity,
        ...(f.pkg && { pkg: f.pkg }),
        ...(f.installedVersion && { installedVersion: f.installedVersion }),
        ...((seen?.fixedVersion ?? f.fixedVersion) && { fixedVersion: seen?.fixedVersion ?? f.fixedVersion }),
        versions,
        ...(platforms && { platforms }),
        from,
      });
    }
  }
  const all = [...unique.values()].sort(bySeverity);
  const count = (s: ProviderFinding['severity']) => all.filter((f) => f.severity === s).length;
  return {
    scannedVersions: parts.filter((p) => p.origin === 'binary').length,
    critical: count('CRITICAL'),
    high: count('HIGH'),
    medium: count('MEDIUM'),
    low: count('LOW'),
    unknown: count('UNKNOWN'),
    blocked: [...blocked].sort(),
    findings: all.slice(0, MAX_STATUS_FINDINGS),
    truncated: all.length > MAX_STATUS_FINDINGS,
  };
}

/** A Provider's `status.scan` from its relevant Versions (removed when none is scanned). */
export function providerScanStatus(provider: Provider, relevant: readonly Version[]): { scan?: ProviderScanStatus | null } {
  const parts = [...binaryParts(relevant), ...sourceParts(relevant)];
  const sources = sourceStates(relevant);
  if (parts.length === 0 && sources.length === 0) return provider.status?.scan ? { scan: null } : {};
  const blocked = relevant.filter((v) => v.status?.scan?.blocked === true).map((v) => `${v.spec.version}/${v.spec.operatingSystem}_${v.spec.architecture}`);
  return { scan: { ...aggregateProviderScan(parts, blocked), ...(sources.length > 0 && { sources }) } };
}
