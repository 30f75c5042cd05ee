/**
 * What the provider protocols answer from: a provider's releases (one per version, each with
 * its platforms), computed from its Versions once per change and shared by every request.
 */
import { compareVersions, tryParseVersion, type Version } from '@opendepot/core';
import { EncodedAnswer } from '../http/encoded-answer.ts';
import { conventionalFilename, mirrorAddressKeys, recordedFilename } from './provider-address.ts';
import type { ServableArchive, VersionState } from './types.ts';
import { FOREIGN_KEY_MESSAGE, versionState } from './version-state.ts';

/** One platform (OS and architecture) of a provider release: one Version resource. */
export interface ProviderPlatform {
  os: string;
  arch: string;
  /** `<os>_<arch>`, as the mirror protocol keys platforms. */
  key: string;
  /** The package file name, as `SHA256SUMS` and the download answer name it. */
  filename: string;
  /** The Version resource's `namespace/name`, for logs. */
  resource: string;
  state: VersionState;
  /** The recorded `h1:` hash, when the operator computed it and it is well-formed. */
  h1: string | undefined;
  /** Plugin protocol versions the upstream declared, e.g. `["5.0"]`. */
  protocols: readonly string[];
  /** Network-mirror address keys this package is served under. */
  mirrorKeys: readonly string[];
}

/** A platform whose package may be served. */
export interface ReadyPlatform extends ProviderPlatform {
  state: ServableArchive;
}

/** One version of a provider. */
export interface ProviderRelease {
  /** Canonical `X.Y.Z[-pre]`. */
  version: string;
  /** Every platform by `<os>_<arch>`, servable or not. */
  platforms: ReadonlyMap<string, ProviderPlatform>;
  /** The servable platforms, by file name. */
  ready: readonly ReadyPlatform[];
  /** Union of the ready platforms' protocols, sorted. */
  protocols: readonly string[];
  /**
   * OpenTofu's `packages` object of the download answer (RFC 20251027, OpenTofu >= 1.12): for
   * every ready platform its lock-file hashes and its size, so one answer names the hashes of
   * them all. Undefined when no ready platform has a non-empty package.
   */
  packages: Readonly<Record<string, PlatformPackage>> | undefined;
  /**
   * `SHA256SUMS` of the ready platforms: `<sha256>  <filename>\n` per line, sorted by file name,
   * from the checksums recorded in status (never read back from storage). Empty when none is ready.
   */
  shasums: Buffer;
}

/** One entry of {@link ProviderRelease.packages}, named as the RFC names its fields. */
export interface PlatformPackage {
  /** {@link lockHashes} of the platform. */
  hashes: readonly string[];
  /** Bytes of the zip the package route serves (`status.size`); tofu compares it with what it downloaded. */
  package_size: number;
}

/** `dirhash.Hash1`: `h1:` and the base64 of a SHA-256. */
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

/** The hashes a lock file records for a ready package: `h1:` (when recorded) and `zh:` (the zip's SHA-256). */
export function lockHashes(platform: ReadyPlatform): string[] {
  return [...(platform.h1 === undefined ? [] : [platform.h1]), `zh:${platform.state.checksum}`];
}

/** A provider as providers.v1 serves it. */
export interface ProviderView {
  /** Kubernetes namespace: the first segment of the address. */
  namespace: string;
  /** Provider type (`spec.provider.name`): the second segment. */
  type: string;
  /** The Provider object whose Versions these are. */
  owner: string;
  /** `namespace/type`, for messages. */
  address: string;
  /** Every release by canonical version. */
  releases: ReadonlyMap<string, ProviderRelease>;
  /** Releases with at least one ready platform, oldest first. */
  ready: readonly ProviderRelease[];
  /** The providers.v1 `versions` answer, encoded once per change of the provider's Versions. */
  versionsAnswer: EncodedAnswer;
}

/** Where a view reports data it skips. */
export type WarnOnce = (id: string, details: Record<string, unknown>, message: string) => void;

interface Candidate {
  version: Version;
  resource: string;
}

/** Builds the view of one Provider (`owner`) from its Versions. */
export function buildProviderView(namespace: string, type: string, owner: string, versions: readonly Candidate[], warn: WarnOnce): ProviderView {
  const byRelease = new Map<string, Map<string, ProviderPlatform>>();
  for (const { version, resource } of versions) {
    const { operatingSystem: os, architecture: arch } = version.spec;
    const parsed = tryParseVersion(version.spec.version);
    if (typeof parsed === 'string' || os === undefined || arch === undefined) {
      warn(`provider-version:${resource}`, { version: resource }, `provider Version is not served: ${typeof parsed === 'string' ? parsed : 'it names no operating system and architecture'}`);
      continue;
    }
    const platform: ProviderPlatform = {
      os,
      arch,
      key: `${os}_${arch}`,
      filename: recordedFilename(version) ?? '',
      resource,
      state: versionState(version),
      h1: recordedH1(version, resource, warn),
      protocols: version.status?.protocols ?? [],
      mirrorKeys: mirrorAddressKeys(version),
    };
    if (platform.state.kind !== 'ready' && platform.state.foreignStorageKey !== undefined) {
      warn(`foreign-key:${resource}:${platform.state.foreignStorageKey}`, { version: resource, storageKey: platform.state.foreignStorageKey }, FOREIGN_KEY_MESSAGE);
    }
    let platforms = byRelease.get(parsed.canonical);
    if (platforms === undefined) byRelease.set(parsed.canonical, (platforms = new Map()));
    const existing = platforms.get(platform.key);
    // Two Versions for one platform should not happen; prefer the servable one, then the name.
    if (existing === undefined || (existing.state.kind !== 'ready' && (platform.state.kind === 'ready' || resource < existing.resource))) {
      platforms.set(platform.key, platform);
    }
  }
  const releases = new Map<string, ProviderRelease>();
  for (const [version, platforms] of byRelease) releases.set(version, buildRelease(type, version, platforms));
  const ready = [...releases.values()].filter((r) => r.ready.length > 0).sort((a, b) => compareVersions(a.version, b.version));
  return {
    namespace,
    type,
    owner,
    address: `${namespace}/${type}`,
    releases,
    ready,
    versionsAnswer: new EncodedAnswer(
      JSON.stringify({
        versions: ready.map((r) => ({ version: r.version, protocols: r.protocols, platforms: r.ready.map((p) => ({ os: p.os, arch: p.arch })) })),
      }),
    ),
  };
}

// A malformed h1: would make tofu reject the whole answer it appears in; it is left out instead.
function recordedH1(version: Version, resource: string, warn: WarnOnce): string | undefined {
  const h1 = version.status?.h1;
  if (h1 === undefined || H1.test(h1)) return h1;
  warn(`provider-h1:${resource}`, { version: resource }, 'provider Version status.h1 is not an h1: hash; it is not offered to clients');
  return undefined;
}

function buildRelease(type: string, version: string, platforms: Map<string, ProviderPlatform>): ProviderRelease {
  // A recorded upstream name is kept when no other platform records the same one; otherwise that
  // platform gets the conventional name. A file name must identify one package of the release.
  const uses = new Map<string, number>();
  for (const p of platforms.values()) if (p.filename !== '') uses.set(p.filename, (uses.get(p.filename) ?? 0) + 1);
  for (const p of platforms.values()) if (uses.get(p.filename) !== 1) p.filename = conventionalFilename(type, version, p.os, p.arch);
  if (new Set([...platforms.values()].map((p) => p.filename)).size !== platforms.size) {
    for (const p of platforms.values()) p.filename = conventionalFilename(type, version, p.os, p.arch);
  }
  const ready = [...platforms.values()].filter((p): p is ReadyPlatform => p.state.kind === 'ready').sort((a, b) => (a.filename < b.filename ? -1 : 1));
  return {
    version,
    platforms,
    ready,
    protocols: [...new Set(ready.flatMap((p) => p.protocols))].sort(),
    packages: packagesOf(ready),
    shasums: Buffer.from(ready.map((p) => `${p.state.checksum}  ${p.filename}\n`).join(''), 'utf8'),
  };
}

// tofu refuses an entry of size 0 for the platform it installs, and a zip is never empty.
function packagesOf(ready: readonly ReadyPlatform[]): Record<string, PlatformPackage> | undefined {
  const entries = ready.filter((p) => p.state.size > 0).sort((a, b) => (a.key < b.key ? -1 : 1));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((p) => [p.key, { hashes: lockHashes(p), package_size: p.state.size }]));
}
