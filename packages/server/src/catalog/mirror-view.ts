/**
 * The network mirror's view of one upstream address (`registry.opentofu.org/hashicorp/aws`):
 * the packages of every Provider that mirrors it, merged.
 */
import { compareVersions } from '@opendepot/core';
import type { ProviderView, ReadyPlatform } from './provider-view.ts';

/** One package the mirror offers, and the providers.v1 address it is served under. */
export interface MirrorArchive {
  /** The Kubernetes namespace and type of the Provider holding it. */
  namespace: string;
  type: string;
  /** The name of that Provider resource (whose grant decides access). */
  owner: string;
  version: string;
  platform: ReadyPlatform;
}

/** What the mirror serves for one upstream address. */
export interface MirrorView {
  /** `host/namespace/type`, lower-case. */
  key: string;
  /** Version → platform key (`linux_amd64`) → package, versions oldest first. */
  releases: ReadonlyMap<string, ReadonlyMap<string, MirrorArchive>>;
}

/** What a merge found questionable, for a warning. */
export interface MirrorConflict {
  version: string;
  platform: string;
  served: string;
  ignored: string;
}

/**
 * Merges the ready packages mirrored under `key`. Several Providers (in different Kubernetes
 * namespaces) may mirror one address: per version and platform the Provider of the
 * alphabetically first namespace wins, so the answer never depends on event order.
 */
export function buildMirrorView(key: string, views: readonly ProviderView[], onConflict?: (conflict: MirrorConflict) => void): MirrorView {
  const merged = new Map<string, Map<string, MirrorArchive>>();
  const ordered = [...views].sort((a, b) => (a.namespace === b.namespace ? (a.type < b.type ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  for (const view of ordered) {
    for (const release of view.ready) {
      for (const platform of release.ready) {
        if (!platform.mirrorKeys.includes(key)) continue;
        let archives = merged.get(release.version);
        if (archives === undefined) merged.set(release.version, (archives = new Map()));
        const existing = archives.get(platform.key);
        if (existing === undefined) {
          archives.set(platform.key, { namespace: view.namespace, type: view.type, owner: view.owner, version: release.version, platform });
        } else if (existing.platform.state.checksum !== platform.state.checksum) {
          onConflict?.({ version: release.version, platform: platform.key, served: existing.platform.resource, ignored: platform.resource });
        }
      }
    }
  }
  const releases = new Map([...merged].sort(([a], [b]) => compareVersions(a, b)));
  return { key, releases };
}
