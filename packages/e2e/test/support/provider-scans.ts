/** Readers the provider-scanning end-to-end tests share: the Provider's scan aggregate and whether a scanned archive was stored. */
import { eventually, type RegistryEnv } from './registry-env.ts';
import type { Condition } from './resources.ts';

/** A provider Version (one platform of one version) as `kubectl get -o json` prints it: the fields the scanning tests read. */
export interface ProviderVersion {
  metadata: { name: string };
  spec: { version: string; operatingSystem: string; architecture: string };
  status?: {
    conditions?: Condition[];
    checksum?: string;
    storageKey?: string;
    scan?: {
      scanner: string;
      critical: number;
      high: number;
      blocked: boolean;
      reportKey: string;
      database?: { updatedAt: string; nextUpdate?: string };
      ignored?: { id: string; expires: string; reason: string }[];
      findings?: { id: string; severity: string; pkg?: string; installedVersion?: string; fixedVersion?: string }[];
    };
    sourceScan?: { state: string; version: string; repository?: string; message?: string; findings?: { id: string; severity: string }[] };
  };
}

/** A Provider's status.scan: the findings of all its Versions, deduplicated. */
export interface ProviderScan {
  scannedVersions: number;
  high: number;
  critical: number;
  blocked: string[];
  sources?: { version: string; state: string; repository?: string; message?: string }[];
  findings: { id: string; severity: string; pkg?: string; installedVersion?: string; fixedVersion?: string; versions: string[]; platforms?: string[]; from: string }[];
}

/** The Provider `name`'s status.scan once `until` holds for it. */
export function providerScanOnce(env: RegistryEnv, name: string, what: string, until: (scan: ProviderScan) => boolean): Promise<ProviderScan> {
  return eventually(what, async () => {
    const got = await env.get<{ status?: { scan?: ProviderScan } }>('provider', name);
    return got.status?.scan && until(got.status.scan) ? got.status.scan : undefined;
  });
}

/** Whether the archive a scan report (`<key>.scan-report.json`) was written for is in storage. */
export function archiveStored(env: RegistryEnv, reportKey: string): Promise<boolean> {
  return env.blobOf(reportKey.replace(/\.scan-report\.json$/, '')).then(
    () => true,
    () => false,
  );
}
