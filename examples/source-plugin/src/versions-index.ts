/**
 * The version index of one module: `<baseUrl>/<namespace>/<name>/index.json`, e.g.
 * `{"versions": ["v1.0.0", {"version": "v1.1.0", "sha256": "…", "publishedAt": "2025-01-31T12:00:00Z"}]}`.
 * An entry is the upstream's name of a version (`v1.2.0` or `1.2.0`); entries that are not
 * semantic versions are ignored.
 */
import { UnavailableError, type UpstreamVersion } from '@opendepot/sdk';

/** One usable entry of the index. */
export interface IndexedVersion extends UpstreamVersion {
  /** The upstream's name, used in the archive's file name. */
  ref: string;
  /** The archive's SHA-256 (hex), when the index gives it. */
  sha256?: string;
}

const SEMVER = /^v?((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The versions an index file lists, in its order, each canonical version once. */
export function parseVersionsIndex(text: string, where: string): IndexedVersion[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UnavailableError(`${where} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const entries = (parsed as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(entries)) throw new UnavailableError(`${where} has no "versions" array`);
  const found = new Map<string, IndexedVersion>();
  for (const entry of entries) {
    const indexed = indexedVersion(entry);
    if (indexed && !found.has(indexed.version)) found.set(indexed.version, indexed);
  }
  return [...found.values()];
}

function indexedVersion(entry: unknown): IndexedVersion | undefined {
  const fields = typeof entry === 'string' ? { version: entry } : typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
  const name = fields.version;
  if (typeof name !== 'string') return undefined;
  const match = SEMVER.exec(name);
  if (!match?.[1]) return undefined;
  const sha256 = typeof fields.sha256 === 'string' && SHA256_HEX.test(fields.sha256) ? fields.sha256 : undefined;
  const publishedAt = typeof fields.publishedAt === 'string' && !Number.isNaN(Date.parse(fields.publishedAt)) ? fields.publishedAt : undefined;
  return { version: match[1], ref: name, ...(sha256 ? { sha256 } : {}), ...(publishedAt ? { publishedAt } : {}) };
}
