/** Reading `trivy --format json` output into SDK findings. */
import { InputError, type Finding, type Severity } from '@opendepot/sdk';

const SEVERITIES: ReadonlySet<string> = new Set<Severity>(['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

interface TrivyMisconfiguration {
  ID?: string;
  AVDID?: string;
  Title?: string;
  Severity?: string;
  PrimaryURL?: string;
  Status?: string;
  CauseMetadata?: { StartLine?: number };
}
interface TrivyVulnerability {
  VulnerabilityID?: string;
  PkgName?: string;
  InstalledVersion?: string;
  FixedVersion?: string;
  Title?: string;
  Severity?: string;
  PrimaryURL?: string;
}
interface TrivySecret {
  RuleID?: string;
  Title?: string;
  Severity?: string;
  StartLine?: number;
}
interface TrivyResult {
  Target?: string;
  Misconfigurations?: TrivyMisconfiguration[] | null;
  Vulnerabilities?: TrivyVulnerability[] | null;
  Secrets?: TrivySecret[] | null;
}

function severityOf(raw: string | undefined): Severity {
  const upper = (raw ?? '').toUpperCase();
  return SEVERITIES.has(upper) ? (upper as Severity) : 'UNKNOWN';
}

function where(target: string | undefined, line: number | undefined): string | undefined {
  if (target === undefined || target === '') return undefined;
  return line !== undefined && line > 0 ? `${target}:${line}` : target;
}

/**
 * The failed checks, vulnerabilities and secrets of a trivy JSON report. Passed checks are not
 * findings. Throws an InputError when the output is not a trivy report at all.
 */
export function findingsOf(json: string): Finding[] {
  let report: { Results?: TrivyResult[] | null };
  try {
    report = JSON.parse(json) as typeof report;
  } catch (err) {
    throw new InputError(`trivy did not print a JSON report: ${(err as Error).message}`, { cause: err });
  }
  if (typeof report !== 'object' || report === null || !('SchemaVersion' in report)) throw new InputError('trivy printed JSON that is not a scan report (no SchemaVersion)');
  const findings: Finding[] = [];
  for (const result of report.Results ?? []) {
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== undefined && m.Status !== 'FAIL') continue;
      const target = where(result.Target, m.CauseMetadata?.StartLine);
      findings.push({
        id: m.AVDID || m.ID || 'unknown-check',
        severity: severityOf(m.Severity),
        title: m.Title ?? '',
        ...(target && { target }),
        ...(m.PrimaryURL && { url: m.PrimaryURL }),
      });
    }
    for (const v of result.Vulnerabilities ?? []) {
      const target = [result.Target, v.PkgName].filter(Boolean).join(': ');
      findings.push({
        id: v.VulnerabilityID ?? 'unknown-vulnerability',
        severity: severityOf(v.Severity),
        title: v.Title ?? '',
        ...(target && { target }),
        ...(v.PrimaryURL && { url: v.PrimaryURL }),
        ...(v.PkgName && { pkg: v.PkgName }),
        ...(v.InstalledVersion && { installedVersion: v.InstalledVersion }),
        ...(v.FixedVersion && { fixedVersion: v.FixedVersion }),
      });
    }
    for (const s of result.Secrets ?? []) {
      const target = where(result.Target, s.StartLine);
      findings.push({ id: s.RuleID ?? 'unknown-secret', severity: severityOf(s.Severity), title: s.Title ?? '', ...(target && { target }) });
    }
  }
  return findings;
}
