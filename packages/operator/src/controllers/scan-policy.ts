/**
 * The scan policy of one Version: the operator's blockSeverities unless the owner's
 * spec.scanning replaces them, minus the findings its ignore list exempts while their
 * `expires` is in the future. Pure, so the expiry rules are tested without a cluster.
 */
import type { ScanIgnore, ScanningSpec, VersionStatus } from '@opendepot/core';
import type { Finding, Severity } from '@opendepot/sdk';

/** What decides whether findings block. */
export interface BlockRules {
  blockSeverities: readonly Severity[];
  ignore: readonly ScanIgnore[];
}

/** The rules of a Version: its spec.scanning over the operator default. */
export function blockRulesOf(scanning: ScanningSpec | undefined, operatorDefault: readonly Severity[]): BlockRules {
  return { blockSeverities: scanning?.blockSeverities ?? operatorDefault, ignore: scanning?.ignore ?? [] };
}

/** What the rules make of a scan's findings at `now`. */
export interface PolicyVerdict<F extends Finding> {
  /** The findings that keep the archive out. */
  blocking: F[];
  /** The exemptions that let a finding through (each once), to show in status. */
  ignored: ScanIgnore[];
  /** The earliest expiry among `ignored`, in ms since the epoch: the archive is judged again then. */
  nextExpiry?: number;
}

/** Whether `entry` still exempts its finding at `now` (an unparsable date exempts nothing). */
export function exemptionActive(entry: ScanIgnore, now: number): boolean {
  const expires = Date.parse(entry.expires);
  return Number.isFinite(expires) && expires > now;
}

/** Applies `rules` to `findings` at `now`. */
export function judgeFindings<F extends Finding>(findings: readonly F[], rules: BlockRules, now: number = Date.now()): PolicyVerdict<F> {
  const blocking: F[] = [];
  const used = new Map<string, ScanIgnore>();
  for (const finding of findings) {
    if (!rules.blockSeverities.includes(finding.severity)) continue;
    const exemption = rules.ignore.find((e) => e.id === finding.id && exemptionActive(e, now));
    if (exemption) used.set(exemption.id, exemption);
    else blocking.push(finding);
  }
  const ignored = [...used.values()];
  const expiries = ignored.map((e) => Date.parse(e.expires));
  return { blocking, ignored, ...(expiries.length > 0 && { nextExpiry: Math.min(...expiries) }) };
}

/**
 * Whether a stored Version must be judged again: an exemption it relied on has expired or is no
 * longer in its spec.scanning.ignore. Its archive is then scanned again before it is served on.
 */
export function exemptionLapsed(scan: VersionStatus['scan'], scanning: ScanningSpec | undefined, now: number = Date.now()): boolean {
  const current = scanning?.ignore ?? [];
  return (scan?.ignored ?? []).some((used) => !exemptionActive(used, now) || !current.some((e) => e.id === used.id && e.expires === used.expires));
}

/** How long until the earliest exemption a stored Version relies on expires (for its requeue). */
export function msUntilExpiry(scan: VersionStatus['scan'], now: number = Date.now()): number | undefined {
  const expiries = (scan?.ignored ?? []).map((e) => Date.parse(e.expires)).filter(Number.isFinite);
  return expiries.length > 0 ? Math.max(0, Math.min(...expiries) - now) : undefined;
}
