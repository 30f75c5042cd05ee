/**
 * Scanning a module before it is stored: unpack the archive into a temporary directory, run
 * every scanner plugin that scans modules, and decide by the configured policy whether it may be
 * stored. The summary goes into the Version's status; the full findings into storage.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError, isOpenDepotError, type Finding, type Scanner, type Severity } from '@opendepot/sdk';
import { REASONS } from '@opendepot/core';
import { unpackArchive } from '@opendepot/archive-kit';
import { conditionTime } from '../runtime/index.ts';

/** What the operator does with scan findings (`operator.scanning`). */
export interface ScanPolicy {
  /** Scanner plugin instances, in `plugins:` order. */
  scanners: readonly Scanner[];
  /** Findings of these severities keep an archive out of the registry. */
  blockSeverities: readonly Severity[];
}

/** One scanner's finding, named by the scanner that made it. */
export type ReportedFinding = Finding & { scanner: string };

/** The outcome of scanning one archive. */
export interface ScanOutcome {
  /** The scanners that ran, e.g. `trivy 0.74.0`, joined with `, `. */
  scanner: string;
  scannedAt: string;
  counts: Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;
  findings: ReportedFinding[];
  /** The findings the policy refuses; the archive is blocked when there are any. */
  blocking: ReportedFinding[];
}

/** A scanner could not scan: retried with backoff, and shown as ScanFailed. */
export class ScanFailedError extends UnavailableError {
  readonly conditionReason = REASONS.ScanFailed;

  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options);
    this.name = 'ScanFailedError';
  }
}

/** The scanners of `policy` that scan modules. */
export function moduleScanners(policy: ScanPolicy | undefined): Scanner[] {
  return (policy?.scanners ?? []).filter((s) => s.targets === undefined || s.targets.includes('module'));
}

/** Unpacks the archive at `archivePath` and runs the module scanners over it. */
export async function scanModuleArchive(
  archivePath: string,
  format: 'zip' | 'tar.gz',
  module: { name: string; version: string },
  policy: ScanPolicy,
  signal?: AbortSignal,
  spoolDir: string = tmpdir(),
): Promise<ScanOutcome> {
  const work = await mkdtemp(join(spoolDir, 'opendepot-scan-'));
  try {
    const dir = join(work, 'module');
    await mkdir(dir);
    await unpackArchive(createReadStream(archivePath), { from: format, dir, ...(signal && { signal }) });
    const findings: ReportedFinding[] = [];
    const names: string[] = [];
    for (const scanner of moduleScanners(policy)) {
      let report;
      try {
        report = await scanner.scan({ kind: 'module', path: dir, name: module.name, version: module.version }, signal ? { signal } : {});
      } catch (err) {
        if (signal?.aborted) throw err;
        const message = err instanceof Error ? err.message : String(err);
        const retryAfterMs = isOpenDepotError(err) ? (err as { retryAfterMs?: number }).retryAfterMs : undefined;
        throw new ScanFailedError(`scanning ${module.name} ${module.version} failed: ${message}`, { cause: err, ...(retryAfterMs !== undefined && { retryAfterMs }) });
      }
      names.push(report.scanner);
      for (const f of report.findings) findings.push({ ...f, scanner: report.scanner });
    }
    const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
    return {
      scanner: names.join(', ').slice(0, 64),
      scannedAt: conditionTime(),
      counts: { critical: count('CRITICAL'), high: count('HIGH'), medium: count('MEDIUM'), low: count('LOW'), unknown: count('UNKNOWN') },
      findings,
      blocking: findings.filter((f) => policy.blockSeverities.includes(f.severity)),
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
