/**
 * Storage profiles: storage is platform policy. The host configuration names the backends
 * (endpoint, account, credentials, path root, presign defaults); a resource picks a profile and
 * may set only the fields the profile marks tenant-settable, to values matching its globs.
 */
import { minimatch } from 'minimatch';
import type { PresignConfig, StorageConfig } from '../crds/storage.ts';
import { joinFieldPath } from './field-path.ts';
import type { SchemaProblem } from './json-schema.ts';

/** One profile as written in the configuration: one backend key, plus `presign` and `tenantSettable`. */
export interface StorageProfileConfig {
  presign?: PresignConfig;
  /** Backend field name → glob patterns (minimatch) a resource's value must match. */
  tenantSettable?: Record<string, string[]>;
  [backend: string]: unknown;
}

/** `storage:` of the host configuration. */
export interface StorageSettings {
  /** The profile of resources that name none; default: `default` when defined, else the only profile. */
  defaultProfile?: string;
  profiles?: Record<string, StorageProfileConfig>;
}

/** A profile after normalisation. */
export interface StorageProfile {
  name: string;
  /** The backend key (`s3`, `azureBlob`, `gcs`, `filesystem`, or a storage plugin's name). */
  key: string;
  /** The backend config as the platform wrote it (plus `root` for `filesystem`). */
  config: Record<string, unknown>;
  presign?: PresignConfig;
  tenantSettable: Record<string, string[]>;
  /** Where the profile is in the configuration, e.g. `storage.profiles.minio`, for messages. */
  path: string;
}

/** All profiles and the default one. */
export interface StorageProfiles {
  profiles: Map<string, StorageProfile>;
  defaultProfile?: string;
}

/** The name of the profile made from the `defaultStorageConfig` shorthand. */
export const SHORTHAND_PROFILE = 'default';
/** Profile names: DNS labels, so they read well in manifests and Helm values. */
export const PROFILE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const PROFILE_KEYS = new Set(['presign', 'tenantSettable']);

/** Fields of every backend that say where credentials go, or are the credentials: never tenant-settable. */
const LOCKED_FIELDS = new Set(['endpoint', 'accountUrl', 'credentialsSecretRef', 'forcePathStyle', 'root', 'allowedEndpointHosts', 'credentials']);
/** Plugin fields named like an address, a credential reference or a host list are locked too. */
const LOCKED_SUFFIX = /(url|uri|endpoint|secretref|hosts|credentials)$/i;

/** Whether resources may never set `field` of a backend, whatever a profile says. */
export function isLockedStorageField(field: string): boolean {
  return LOCKED_FIELDS.has(field) || LOCKED_SUFFIX.test(field);
}

// `*` stops at `/`, `**` spans it; `!` and `#` are literal, so a pattern cannot invert the list.
const GLOB_OPTIONS = { nonegate: true, nocomment: true, dot: true } as const;

/** Whether a tenant's value of a settable field matches one of the profile's patterns. */
export function matchesTenantGlobs(value: unknown, patterns: readonly string[]): boolean {
  // `..` segments never pass: a path or prefix must not climb out of what a pattern allows.
  if (typeof value !== 'string' || value.split('/').includes('..')) return false;
  return patterns.some((pattern) => minimatch(value, pattern, GLOB_OPTIONS));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What is wrong with `storage` (and the `defaultStorageConfig` shorthand) before any plugin is
 * known: several or no backends in a profile, locked tenant-settable fields, an unknown default.
 */
export function storageSettingsProblems(config: { storage?: StorageSettings; defaultStorageConfig?: StorageConfig }): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const profiles = config.storage?.profiles;
  const named = isObject(profiles) ? Object.keys(profiles) : [];
  if (named.length > 0 && config.defaultStorageConfig !== undefined) {
    problems.push({
      path: 'defaultStorageConfig',
      message: 'is the shorthand for a single storage profile and cannot be combined with storage.profiles; move it into storage.profiles (and name it in storage.defaultProfile)',
    });
  }
  if (isObject(config.defaultStorageConfig) && config.defaultStorageConfig.profile !== undefined) {
    problems.push({ path: 'defaultStorageConfig.profile', message: 'the shorthand is itself the default profile and names no other; to pick one of storage.profiles, set storage.defaultProfile' });
  }
  if (isObject(config.defaultStorageConfig)) {
    const shorthand = config.defaultStorageConfig;
    const backends = Object.keys(shorthand).filter((k) => !PROFILE_KEYS.has(k) && k !== 'profile' && shorthand[k] !== undefined);
    if (backends.length !== 1)
      problems.push({
        path: 'defaultStorageConfig',
        message: `names ${backends.length === 0 ? 'no storage backend' : `${backends.length} storage backends (${backends.join(', ')})`}; it needs exactly one`,
      });
  }
  for (const name of named) {
    const path = joinFieldPath('storage.profiles', name);
    if (!new RegExp(PROFILE_NAME_PATTERN).test(name) || name.length > 63) {
      problems.push({ path, message: `profile names are lowercase letters, digits and dashes (a DNS label), not ${JSON.stringify(name)}` });
    }
    const profile = profiles![name];
    if (!isObject(profile)) continue;
    const backends = Object.keys(profile).filter((k) => !PROFILE_KEYS.has(k) && profile[k] !== undefined);
    if (backends.length !== 1) {
      problems.push({
        path,
        message:
          backends.length === 0
            ? "names no storage backend; set exactly one of s3, azureBlob, gcs, filesystem or a storage plugin's name"
            : `names ${backends.length} storage backends (${backends.join(', ')}); a profile has exactly one`,
      });
    }
    for (const field of Object.keys(profile.tenantSettable ?? {})) {
      if (isLockedStorageField(field)) {
        problems.push({
          path: joinFieldPath(joinFieldPath(path, 'tenantSettable'), field),
          message: `${field} says where credentials are sent (or is a credential) and can never be tenant-settable; remove it from tenantSettable and set its value in the profile itself`,
        });
      }
    }
  }
  const wanted = config.storage?.defaultProfile;
  if (wanted !== undefined && !named.includes(wanted) && !(named.length === 0 && config.defaultStorageConfig !== undefined && wanted === SHORTHAND_PROFILE)) {
    problems.push({ path: 'storage.defaultProfile', message: `names the profile ${JSON.stringify(wanted)}, which storage.profiles does not define (defined: ${named.join(', ') || 'none'})` });
  }
  return problems;
}

/**
 * The profiles of a configuration: `storage.profiles`, or the `defaultStorageConfig` shorthand
 * as one profile named `default` with nothing tenant-settable. Assumes
 * {@link storageSettingsProblems} found nothing; throws a plain `Error` otherwise.
 */
export function storageProfilesOf(config: { storage?: StorageSettings; defaultStorageConfig?: StorageConfig }): StorageProfiles {
  const problems = storageSettingsProblems(config);
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  const written = config.storage?.profiles ?? {};
  const entries: Array<[string, StorageProfileConfig, string]> = Object.entries(written).map(([name, p]) => [name, p, joinFieldPath('storage.profiles', name)]);
  if (entries.length === 0 && config.defaultStorageConfig !== undefined) {
    entries.push([SHORTHAND_PROFILE, config.defaultStorageConfig as StorageProfileConfig, 'defaultStorageConfig']);
  }
  const profiles = new Map<string, StorageProfile>();
  for (const [name, written, path] of entries) {
    const key = Object.keys(written).find((k) => !PROFILE_KEYS.has(k) && written[k] !== undefined)!;
    let backend = written[key] as Record<string, unknown>;
    // The filesystem root is the profile's own path unless the platform widens it.
    if (key === 'filesystem' && isObject(backend) && backend.root === undefined && typeof backend.path === 'string') backend = { ...backend, root: backend.path };
    profiles.set(name, {
      name,
      key,
      config: backend,
      tenantSettable: written.tenantSettable ?? {},
      path,
      ...(written.presign !== undefined && { presign: written.presign }),
    });
  }
  const defaultProfile = config.storage?.defaultProfile ?? (profiles.has(SHORTHAND_PROFILE) ? SHORTHAND_PROFILE : profiles.size === 1 ? [...profiles.keys()][0] : undefined);
  return { profiles, ...(defaultProfile !== undefined && { defaultProfile }) };
}

/**
 * The `storageConfig` the operator copies into a Version whose owner (and Depot) set none: a
 * reference to the default profile, so the Version follows the platform's profile.
 */
export function defaultStorageReference(config: { storage?: StorageSettings; defaultStorageConfig?: StorageConfig }): StorageConfig | undefined {
  const { defaultProfile } = storageProfilesOf(config);
  return defaultProfile === undefined ? undefined : { profile: defaultProfile };
}
