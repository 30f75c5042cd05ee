/** The `scanner` plugin kind: security scans of what is about to be stored. */

/**
 * The `conditionReason` property of the error a scanner throws when it has no vulnerability
 * database to scan with (never a clean report instead): an `UnavailableError` subclass, retried
 * with backoff as the database may be populated meanwhile, whose hint names the setting that
 * fixes it. The host reads an error's own `conditionReason` as its condition reason.
 */
export const SCANNER_DATABASE_MISSING = 'ScannerDatabaseMissing';

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
  /** For a vulnerable dependency: the package, e.g. `golang.org/x/text`. */
  pkg?: string;
  /** For a vulnerable dependency: the version found, e.g. `v0.3.7`. */
  installedVersion?: string;
  /** For a vulnerable dependency: the version(s) that fix it, e.g. `0.3.8` (absent when none does yet). */
  fixedVersion?: string;
}

/**
 * What to scan: an unpacked module tree (`module`), a provider package (`provider`: its executable
 * or the directory it was unpacked into), or a provider's source tree (`provider-source`: Go
 * sources with go.mod/go.sum).
 */
export interface ScanTarget {
  kind: 'module' | 'provider' | 'provider-source';
  /** Local path of the unpacked module directory, the provider executable or package directory, or the source tree. */
  path: string;
  /** Name and version, for reports. */
  name: string;
  version: string;
  /** For a provider package: its platform, `<os>_<arch>`. */
  platform?: string;
}

/** The vulnerability database a scan used, so its age can be shown and alerted on. */
export interface ScanDatabase {
  /** When the database was built (RFC 3339). */
  updatedAt: string;
  /** When its publisher plans the next build (RFC 3339); a database past it is stale. */
  nextUpdate?: string;
  /** When this copy was downloaded (RFC 3339). */
  downloadedAt?: string;
}

/** The result of a scan. */
export interface ScanReport {
  findings: Finding[];
  /** The scanner's own name and version, e.g. `trivy 0.74.0`. */
  scanner: string;
  /** The vulnerability database used, for scans that use one (provider scans). */
  database?: ScanDatabase;
}

/** A scanner such as Trivy. */
export interface Scanner {
  /**
   * What it can scan; the host gives it only these targets. Default: modules and providers (a
   * scanner that reads source trees lists `provider-source` explicitly).
   */
  readonly targets?: ReadonlyArray<ScanTarget['kind']>;
  scan(target: ScanTarget, options?: { signal?: AbortSignal }): Promise<ScanReport>;
  close?(): Promise<void>;
}
