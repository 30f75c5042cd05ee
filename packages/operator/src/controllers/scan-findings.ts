/**
 * Findings as status holds them: one per (id, package, installed version), most severe first,
 * bounded, so an owner can deduplicate its Versions' findings without reading their reports.
 */
import type { ScanSummary } from '@opendepot/core';
import type { Finding, ScanDatabase, Severity } from '@opendepot/sdk';

/** A Version's finding in status. */
export type StatusFinding = NonNullable<ScanSummary['findings']>[number];

/** At most this many findings per status list; the full report in storage has them all. */
export const MAX_STATUS_FINDINGS = 200;

const RANK: Record<Severity, number> = { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 };

type Identified = { severity: Severity; id: string; pkg?: string; installedVersion?: string };

/** Most severe first, then by id, package and installed version, for a stable status. */
export function bySeverity(a: Identified, b: Identified): number {
  return RANK[b.severity] - RANK[a.severity] || findingKey(a).localeCompare(findingKey(b));
}

/** The identity of a finding: the same vulnerability in the same package version is one finding. */
export function findingKey(f: { id: string; pkg?: string; installedVersion?: string }): string {
  return JSON.stringify([f.id, f.pkg ?? '', f.installedVersion ?? '']);
}

/** The deduplicated, bounded findings of one scan, for a Version's status. */
export function statusFindings(findings: readonly (Finding & { pkg?: string; installedVersion?: string; fixedVersion?: string })[]): StatusFinding[] {
  const unique = new Map<string, StatusFinding>();
  for (const f of findings) {
    const key = findingKey(f);
    if (unique.has(key)) continue;
    unique.set(key, {
      id: f.id.slice(0, 128),
      severity: f.severity,
      ...(f.pkg && { pkg: f.pkg.slice(0, 256) }),
      ...(f.installedVersion && { installedVersion: f.installedVersion.slice(0, 128) }),
      ...(f.fixedVersion && { fixedVersion: f.fixedVersion.slice(0, 256) }),
    });
  }
  return [...unique.values()].sort(bySeverity).slice(0, MAX_STATUS_FINDINGS);
}

/** RFC 3339 in UTC, whole seconds (the API server's date-time); undefined for what is not a time. */
function statusTime(value: string | undefined): string | undefined {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A scanner's database as status holds it (its times normalized; none without a valid updatedAt). */
export function statusDatabase(database: ScanDatabase | undefined): ScanSummary['database'] {
  const updatedAt = statusTime(database?.updatedAt);
  if (!database || updatedAt === undefined) return undefined;
  const nextUpdate = statusTime(database.nextUpdate);
  const downloadedAt = statusTime(database.downloadedAt);
  return { updatedAt, ...(nextUpdate && { nextUpdate }), ...(downloadedAt && { downloadedAt }) };
}
