/**
 * The part of planning shared by Modules and Providers: compare the Versions an owner wants
 * with the Versions it has, and say what to create, update and remove. A Version no longer
 * wanted is removed, except while the owner is immutable and that Version is Ready and was
 * dropped from the list (not cut by the history limit): an immutable registry never loses a
 * served version because a list was edited.
 *
 * Immutability is about an archive's bytes, not about how they are stored and served: a Ready
 * immutable Version keeps the fields that decide its bytes (module or provider coordinates,
 * file format), but its `storageConfig` follows the owner. Presign settings take effect at the
 * next download; a new location (profile, backend, bucket, prefix) makes the Version controller
 * copy the archive there from the old one (else fetch it from the source), accepting only the
 * bytes whose sha256 it recorded.
 */
import { API_VERSION, canonicalJson, compareVersions, normalizeVersion, type Version, type VersionSpec } from '@opendepot/core';
import { OWNER_KIND_LABEL, OWNER_NAME_LABEL, VERSION_FINALIZER, VERSION_LABEL, labelValue } from './naming.ts';

/** A Version an owner should have, as it should look. */
export interface WantedVersion {
  name: string;
  labels: Record<string, string>;
  spec: VersionSpec;
}

/** The changes that bring the cluster in line with an owner. */
export interface VersionPlan {
  create: WantedVersion[];
  /** Existing Versions whose spec must change. */
  update: WantedVersion[];
  /** Existing Versions to delete. */
  remove: string[];
  /** Existing Versions kept although no longer wanted, with the reason. */
  kept: { name: string; reason: string }[];
}

/** An owner (Module or Provider) as the planner sees it. */
export interface OwnerRef {
  kind: 'Module' | 'Provider';
  name: string;
  namespace: string;
  uid: string;
}

/** True when a Version's Ready condition is True. */
export function isReady(v: Pick<Version, 'status'>): boolean {
  return v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The listed versions, normalised and de-duplicated, newest first, cut to the history limit. */
export function listedVersions(versions: readonly { version: string }[] | undefined, limit: number | undefined): { wanted: string[]; listed: Set<string> } {
  const listed = new Set<string>();
  for (const { version } of versions ?? []) listed.add(normalizeVersion(version));
  const sorted = [...listed].sort((a, b) => compareVersions(b, a));
  return { wanted: limit ? sorted.slice(0, limit) : sorted, listed };
}

/** Which archive a Version is: its version, plus the platform for providers. */
export function versionIdentity(spec: Pick<VersionSpec, 'version' | 'operatingSystem' | 'architecture'>): string {
  const version = normalizeVersion(spec.version);
  return spec.operatingSystem ? `${version}/${spec.operatingSystem}_${spec.architecture}` : version;
}

/** The labels of an owner's Version. */
export function versionLabels(ownerKind: 'Module' | 'Provider', ownerName: string, version: string): Record<string, string> {
  return {
    [OWNER_KIND_LABEL]: ownerKind,
    [OWNER_NAME_LABEL]: labelValue(ownerName),
    [VERSION_LABEL]: labelValue(version),
    'app.kubernetes.io/managed-by': 'opendepot',
  };
}

/** Compares the fields an owner decides; `forceSync` and the immutable fields are handled apart. */
function sameSpec(a: VersionSpec, b: VersionSpec): boolean {
  const pick = (s: VersionSpec) => canonicalJson([s.module, s.provider, s.fileFormat, s.storageConfig, s.immutable ?? false, s.scanning ?? null, s.sourceScan ?? null]);
  return pick(a) === pick(b);
}

/** Whether the archive's location changed (anything in storageConfig but presign). */
export function storageMoved(a: Pick<VersionSpec, 'storageConfig'>, b: Pick<VersionSpec, 'storageConfig'>): boolean {
  const where = (s: Pick<VersionSpec, 'storageConfig'>) => {
    const { presign: _, ...rest } = s.storageConfig ?? {};
    return canonicalJson(rest);
  };
  return where(a) !== where(b);
}

/** The fields that decide an archive's bytes: frozen on a Ready immutable Version. */
function bytesOf(s: VersionSpec): Pick<VersionSpec, 'module' | 'provider' | 'fileFormat'> {
  return { ...(s.module && { module: s.module }), ...(s.provider && { provider: s.provider }), fileFormat: s.fileFormat };
}

/**
 * The JSON merge patch (RFC 7386) that turns `current` into `wanted`: fields `wanted` no
 * longer has become null, so a storageConfig that moves from one backend to another, or a
 * presign block that drops a field, does not keep the old keys.
 */
export function replacingPatch(current: unknown, wanted: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(current) || !isObject(wanted)) return wanted;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(current)) if (!(key in wanted) || wanted[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(wanted)) if (value !== undefined) patch[key] = replacingPatch(current[key], value);
  return patch;
}

/**
 * Plans the Versions of an owner. `listed` holds the versions its spec lists (before the history
 * limit), so a Version cut by the limit is told apart from one dropped from the list.
 */
export function diffVersions(wanted: readonly WantedVersion[], owned: readonly Version[], options: { immutable: boolean; listed: ReadonlySet<string> }): VersionPlan {
  const byIdentity = new Map(owned.map((v) => [versionIdentity(v.spec), v]));
  const plan: VersionPlan = { create: [], update: [], remove: [], kept: [] };
  for (const w of wanted) {
    const existing = byIdentity.get(versionIdentity(w.spec));
    if (!existing) plan.create.push(w);
    else {
      // A Ready immutable Version keeps its bytes' fields; everything else (storage) follows.
      const spec = existing.spec.immutable && isReady(existing) ? { ...w.spec, ...bytesOf(existing.spec), immutable: true } : w.spec;
      if (!sameSpec(existing.spec, spec)) plan.update.push({ ...w, spec, name: existing.metadata.name! });
    }
  }
  const keep = new Set(wanted.map((w) => versionIdentity(w.spec)));
  for (const [identity, v] of byIdentity) {
    if (keep.has(identity)) continue;
    const cutByLimit = options.listed.has(normalizeVersion(v.spec.version));
    if (options.immutable && isReady(v) && !cutByLimit) {
      plan.kept.push({ name: v.metadata.name!, reason: `${identity} is Ready and the ${v.spec.kind} is immutable` });
      continue;
    }
    plan.remove.push(v.metadata.name!);
  }
  return plan;
}

/** A new Version object for a planned entry, owned by `owner`. */
export function versionObject(owner: OwnerRef, wanted: WantedVersion): Version {
  return {
    apiVersion: API_VERSION,
    kind: 'Version',
    metadata: {
      name: wanted.name,
      namespace: owner.namespace,
      labels: wanted.labels,
      finalizers: [VERSION_FINALIZER],
      ownerReferences: [{ apiVersion: API_VERSION, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: wanted.spec,
  };
}

/** The highest version whose every archive among `versions` is Ready. */
export function latestReady(versions: readonly Version[]): string | undefined {
  const all = new Map<string, boolean>();
  for (const v of versions) {
    const version = normalizeVersion(v.spec.version);
    all.set(version, (all.get(version) ?? true) && isReady(v));
  }
  return [...all]
    .filter(([, ready]) => ready)
    .map(([v]) => v)
    .sort((a, b) => compareVersions(b, a))[0];
}
