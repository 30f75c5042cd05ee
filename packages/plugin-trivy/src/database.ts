/** Trivy's vulnerability database in `<cacheDir>/db`: whether it is there, and how old it is. */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCANNER_DATABASE_MISSING, UnavailableError, type ScanDatabase } from '@opendepot/sdk';

/** Thrown instead of a scan when there is no database: never a clean report without one. */
export class TrivyDatabaseMissingError extends UnavailableError {
  /** The host's condition reason. */
  readonly conditionReason = SCANNER_DATABASE_MISSING;

  /** With `dbRepository`, the database was to come from that mirror: the error points there. */
  constructor(cacheDir: string, why: string, options: { cause?: unknown; dbRepository?: string } = {}) {
    const { dbRepository, ...rest } = options;
    super(`trivy has no vulnerability database in ${join(cacheDir, 'db')}: ${why}`, {
      ...rest,
      field: dbRepository === undefined ? 'cacheDir' : 'dbRepository',
      retryAfterMs: 5 * 60_000,
      hint:
        dbRepository === undefined
          ? 'Set cacheDir to a directory with a pre-populated trivy DB (e.g. a PVC a CronJob refreshes with `trivy image --download-db-only --cache-dir <dir>`), or set dbRepository to an OCI mirror of the trivy DB.'
          : `Check that ${dbRepository} can be reached from the operator and serves the trivy DB artifact (a mirror of ghcr.io/aquasecurity/trivy-db:2), and that its certificate is trusted (dbRepositoryCaFile); or pre-populate cacheDir and unset dbRepository.`,
    });
    this.name = 'TrivyDatabaseMissingError';
  }
}

/** The times in metadata.json, or undefined when trivy.db or a readable metadata.json is missing. */
export async function readDatabase(cacheDir: string): Promise<ScanDatabase | undefined> {
  let raw: string;
  try {
    await access(join(cacheDir, 'db', 'trivy.db'));
    raw = await readFile(join(cacheDir, 'db', 'metadata.json'), 'utf8');
  } catch {
    return undefined;
  }
  let meta: { UpdatedAt?: unknown; NextUpdate?: unknown; DownloadedAt?: unknown };
  try {
    meta = JSON.parse(raw) as typeof meta;
  } catch {
    return undefined;
  }
  const time = (v: unknown) => (typeof v === 'string' && !v.startsWith('0001-') && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined);
  const updatedAt = time(meta.UpdatedAt);
  if (updatedAt === undefined) return undefined;
  const nextUpdate = time(meta.NextUpdate);
  const downloadedAt = time(meta.DownloadedAt);
  return { updatedAt, ...(nextUpdate && { nextUpdate }), ...(downloadedAt && { downloadedAt }) };
}
