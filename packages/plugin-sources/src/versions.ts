/** Tags ↔ versions, shared by the archive sources. */
import semver from 'semver';
import type { UpstreamVersion } from '@opendepot/sdk';

const TAG = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;

/**
 * The canonical version (`1.2.3`, `1.2.3-rc.1`) a tag names, or `undefined` when the tag is not
 * `v<semver>` or `<semver>`. Tags with build metadata are ignored: the version could not name them.
 */
export function versionFromTag(tag: string): string | undefined {
  const match = TAG.exec(tag);
  if (!match?.[1]) return undefined;
  return semver.valid(match[1]) ?? undefined;
}

/** The tags to try for a version, in order: `v1.2.3`, then `1.2.3`. */
export function tagCandidates(version: string): string[] {
  return [`v${version}`, version];
}

/** Whether `version` is a canonical version a source may be asked for. */
export function isCanonicalVersion(version: string): boolean {
  return versionFromTag(version) === version;
}

/**
 * Versions of the given tags, one per version (a `v`-prefixed tag wins over a bare one), in
 * ascending semver order.
 */
export function versionsFromTags(tags: Iterable<{ tag: string; publishedAt?: string }>): UpstreamVersion[] {
  const byVersion = new Map<string, UpstreamVersion>();
  for (const { tag, publishedAt } of tags) {
    const version = versionFromTag(tag);
    if (!version) continue;
    const existing = byVersion.get(version);
    if (existing?.ref?.startsWith('v')) continue;
    byVersion.set(version, { version, ...(tag !== version ? { ref: tag } : {}), ...(publishedAt ? { publishedAt } : {}) });
  }
  return [...byVersion.values()].sort((a, b) => semver.compare(a.version, b.version));
}
