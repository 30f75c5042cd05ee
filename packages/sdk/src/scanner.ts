/** The `scanner` plugin kind: security scans of what is about to be stored. */

/** Severity levels, in increasing order. */
export type Severity = 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** One finding of a scan. */
export interface Finding {
  /** Stable identifier, e.g. `AVD-AWS-0086` or `CVE-2024-1234`. */
  id: string;
  severity: Severity;
  title: string;
  /** File or package the finding is about. */
  target?: string;
  /** Where to read more. */
  url?: string;
}

/** What to scan: an unpacked module tree, or a provider binary. */
export interface ScanTarget {
  kind: 'module' | 'provider';
  /** Local path of the unpacked module directory or the provider executable. */
  path: string;
  /** Name and version, for reports. */
  name: string;
  version: string;
}

/** The result of a scan. */
export interface ScanReport {
  findings: Finding[];
  /** The scanner's own name and version, e.g. `trivy 0.74.0`. */
  scanner: string;
}

/** A scanner such as Trivy. */
export interface Scanner {
  /** What it can scan; the host gives it only these targets. Default: modules and providers. */
  readonly targets?: ReadonlyArray<ScanTarget['kind']>;
  scan(target: ScanTarget, options?: { signal?: AbortSignal }): Promise<ScanReport>;
  close?(): Promise<void>;
}
