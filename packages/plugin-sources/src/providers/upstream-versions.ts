/** Version lists of provider upstreams. */
import semver from 'semver';
import type { UpstreamVersion } from '@opendepot/sdk';

/** One entry per version (the first seen wins), ascending by semver precedence. */
export function sortedVersions(versions: Iterable<UpstreamVersion>): UpstreamVersion[] {
  const byVersion = new Map<string, UpstreamVersion>();
  for (const v of versions) if (!byVersion.has(v.version)) byVersion.set(v.version, v);
  return [...byVersion.values()].sort((a, b) => semver.compare(a.version, b.version));
}
