/**
 * Scanning an archive before it is stored: unpack it (a module, or a provider package for one
 * platform) into a temporary directory with the safe reader, run every scanner plugin that scans
 * that kind, and decide by the Version's policy whether it may be stored. The summary goes into
 * the Version's status; the full findings into storage.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError, isOpenDepotError, type Finding, type ScanDatabase, type Scanner, type Severity } from '@opendepot/sdk';
import { REASONS, isReason, type ScanIgnore } from '@opendepot/core';
import { DEFAULT_PROVIDER_ZIP_LIMITS, unpackArchive, type ArchiveLimits, type ProviderZipLimits } from '@opendepot/archive-kit';
import { conditionTime } from '../runtime/index.ts';
import { judgeFindings, type BlockRules } from './scan-policy.ts';

/** What the operator does with scan findings (`operator.scanning`). */
export interface ScanPolicy {
  /** Scanner plugin instances, in `plugins:` order. */
  scanners: readonly Scanner[];
  /** Findings of these severities keep an archive out of the registry. */
  blockSeverities: readonly Severity[];
  /** Told the vulnerability database each scan used (for the database-age metric). */
  onDatabase?(scanner: string, database: ScanDatabase): void;
}

/**
 * One scanner's finding, named by the scanner that made it. The package fields are read
 * defensively: scanners that know them (Trivy on a Go binary) report them, others do not.
 */
export type ReportedFinding = Finding & { scanner: string; pkg?: string; installedVersion?: string; fixedVersion?: string };

/** The outcome of scanning one archive. */
export interface ScanOutcome {
  /** The scanners that ran, e.g. `trivy 0.74.0`, joined with `, `. */
  scanner: string;
  scannedAt: string;
  counts: Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;
  findings: ReportedFinding[];
  /** The findings the policy refuses; the archive is blocked when there are any. */
  blocking: ReportedFinding[];
  /** The exemptions (spec.scanning.ignore) that let a finding through. */
  ignored: ScanIgnore[];
  /** When the earliest of them expires (ms since the epoch): the Version is judged again then. */
  nextExpiry?: number;
  /** The oldest vulnerability database the scanners used, when they use one. */
  database?: ScanDatabase;
}

/** What is scanned: a module tree, one platform's provider package, or a provider's source tree. */
export interface ScanSubject {
  kind: 'module' | 'provider' | 'provider-source';
  name: string;
  version: string;
}

/** A scanner could not scan: retried with backoff, and shown as ScanFailed. */
export class ScanFailedError extends UnavailableError {
  readonly conditionReason: string;

  /** `reason`: a more specific reason of core's table the scanner named (e.g. ScannerDatabaseMissing). */
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number; reason?: string } = {}) {
    const { reason, ...rest } = options;
    super(message, rest);
    this.name = 'ScanFailedError';
    this.conditionReason = reason !== undefined && isReason(reason) ? reason : REASONS.ScanFailed;
  }
}

/** The scanners of `policy` that scan `kind` (a scanner without `targets` scans both). */
export function scannersFor(policy: ScanPolicy | undefined, kind: ScanSubject['kind']): Scanner[] {
  return (policy?.scanners ?? []).filter((s) => s.targets === undefined || s.targets.includes(kind));
}

/** The scanners of `policy` that scan modules. */
export function moduleScanners(policy: ScanPolicy | undefined): Scanner[] {
  return scannersFor(policy, 'module');
}

/**
 * The unpack limits of a provider package: its zip limits (operator.limits), since a provider
 * binary is far larger than a module file may be.
 */
function providerUnpackLimits(limits: ProviderZipLimits | undefined): Partial<ArchiveLimits> {
  const total = limits?.maxUncompressedBytes ?? DEFAULT_PROVIDER_ZIP_LIMITS.maxUncompressedBytes;
  return { maxInputBytes: total, maxTotalBytes: total, maxEntryBytes: total, maxEntries: limits?.maxEntries ?? DEFAULT_PROVIDER_ZIP_LIMITS.maxEntries };
}

/** Unpacks the archive at `archivePath` and runs the scanners of its kind over it, judged by `rules`. */
export async function scanArchive(
  archivePath: string,
  format: 'zip' | 'tar.gz',
  subject: ScanSubject,
  policy: ScanPolicy,
  options: { rules?: BlockRules; signal?: AbortSignal; spoolDir?: string; providerZipLimits?: ProviderZipLimits } = {},
): Promise<ScanOutcome> {
  const { signal } = options;
  const work = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'opendepot-scan-'));
  try {
    const dir = join(work, subject.kind);
    await mkdir(dir);
    const limits = subject.kind === 'provider' ? { limits: providerUnpackLimits(options.providerZipLimits) } : {};
    await unpackArchive(createReadStream(archivePath), { from: format, dir, ...limits, ...(signal && { signal }) });
    const findings: ReportedFinding[] = [];
    const names: string[] = [];
    let database: ScanDatabase | undefined;
    for (const scanner of scannersFor(policy, subject.kind)) {
      let report;
      try {
        report = await scanner.scan({ kind: subject.kind, path: dir, name: subject.name, version: subject.version }, signal ? { signal } : {});
      } catch (err) {
        if (signal?.aborted) throw err;
        // Never clean: the Version gets ScanFailed and is retried with backoff.
        const message = err instanceof Error ? err.message : String(err);
        const { retryAfterMs, hint, conditionReason } = (isOpenDepotError(err) ? err : {}) as { retryAfterMs?: number; hint?: string; conditionReason?: string };
        // The scanner's hint is the fix (e.g. where its database must come from): it goes into the condition.
        throw new ScanFailedError(`scanning ${subject.name} ${subject.version} failed: ${message}${hint ? `. ${hint}` : ''}`, {
          cause: err,
          ...(retryAfterMs !== undefined && { retryAfterMs }),
          ...(conditionReason !== undefined && { reason: conditionReason }),
        });
      }
      names.push(report.scanner);
      if (report.database) {
        policy.onDatabase?.(report.scanner, report.database);
        if (database === undefined || Date.parse(report.database.updatedAt) < Date.parse(database.updatedAt)) database = report.database;
      }
      for (const f of report.findings) findings.push({ ...f, scanner: report.scanner });
    }
    const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
    const verdict = judgeFindings(findings, options.rules ?? { blockSeverities: policy.blockSeverities, ignore: [] });
    return {
      scanner: names.join(', ').slice(0, 64),
      scannedAt: conditionTime(),
      counts: { critical: count('CRITICAL'), high: count('HIGH'), medium: count('MEDIUM'), low: count('LOW'), unknown: count('UNKNOWN') },
      findings,
      ...verdict,
      ...(database && { database }),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A short, readable list of the blocking findings for a condition message. */
export function describeBlocking(blocking: readonly ReportedFinding[]): string {
  const shown = blocking.slice(0, 5).map((f) => `${f.id} ${f.severity}${f.target ? ` (${f.target})` : ''}`);
  return `${shown.join(', ')}${blocking.length > shown.length ? ` and ${blocking.length - shown.length} more` : ''}`;
}
