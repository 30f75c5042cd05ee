/**
 * Storage instances from per-resource `storageConfig`, under the platform's storage profiles: a
 * resource picks a profile (by name, or by the backend key it names) and may set only the
 * fields that profile lets tenants set; the merged config is validated against the plugin's
 * schema. Nothing is created, read or sent for a config the profile does not allow. One
 * instance per distinct merged config.
 */
import { InputError, type Clock, type Logger, type PluginContext, type StorageBackend } from '@opendepot/sdk';
import { joinFieldPath } from '../config/field-path.ts';
import { createSchemaValidator, describeProblems } from '../config/json-schema.ts';
import { isLockedStorageField, matchesTenantGlobs, storageProfilesOf, storageSettingsProblems, type StorageSettings } from '../config/storage-profiles.ts';
import { mergePresign, type PresignConfig, type StorageConfig } from '../crds/storage.ts';
import { withContext } from '../errors/with-context.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkInstance } from './check-plugin.ts';
import { systemClock } from './loader.ts';
import { closeAll, type LoadedPlugin, type PluginRegistry } from './registry.ts';

/** The first-party storage keys and the packages that provide them, for "not installed" hints. */
export const FIRST_PARTY_STORAGE_PACKAGES: Readonly<Record<string, string>> = {
  filesystem: '@opendepot/plugin-fs',
  s3: '@opendepot/plugin-s3',
  azureBlob: '@opendepot/plugin-azure',
  gcs: '@opendepot/plugin-gcs',
};

/** What {@link createStorageResolver} needs from the host. */
export interface StorageResolverContext {
  /** Parent of each instance's logger. */
  logger: Logger;
  /** The host's shutdown signal, handed to every instance. */
  signal?: AbortSignal;
  clock?: Clock;
  readSecret?(name: string, key: string): Promise<string>;
  /** The platform's storage profiles (`storage:` of the configuration). */
  storage?: StorageSettings;
  /** Shorthand for one profile named `default` with nothing tenant-settable, when `storage.profiles` is unset. */
  defaultStorageConfig?: StorageConfig;
}

/** A checked `storageConfig`: the profile and plugin it selects and the merged, validated config. */
export interface SelectedStorage {
  /** The backend key, which is the storage plugin's name. */
  key: string;
  /** The profile's backend config with the resource's allowed fields over it, plugin schema defaults filled in. */
  config: Record<string, unknown>;
  plugin: LoadedPlugin<'storage'>;
  /** The profile the config resolved to. */
  profile: string;
  /** The resource's `presign` over the profile's, field by field (defaults in `PRESIGN_DEFAULTS`). */
  presign?: PresignConfig;
  /** Path of the config in messages, e.g. `spec.storageConfig` or `storage.profiles.minio`. */
  where: string;
}

/** Makes storage instances from `storageConfig`s. */
export interface StorageResolver {
  /**
   * The instance for a `storageConfig` (`undefined`: the default profile), made once per
   * distinct merged config and shared. `where` names the config in errors (default
   * `storageConfig`), e.g. `spec.storageConfig`. Rejects with an `InputError` naming the field
   * for a config the profiles do not allow, before any plugin is created or Secret read; a
   * failing `create` keeps its error code (so an unreachable backend stays transient).
   */
  resolve(storageConfig: StorageConfig | undefined, where?: string): Promise<StorageBackend>;
  /** Validates against the profiles without creating anything (admission-style checks). Throws `InputError`. */
  check(storageConfig: StorageConfig | undefined, where?: string): SelectedStorage;
  /** Closes every instance made; later calls to `resolve` reject. */
  close(): Promise<void>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const sameValue = (a: unknown, b: unknown): boolean => a === b || (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b));

/**
 * Makes a resolver over the storage plugins of `registry` and the configured profiles. Throws
 * `InputError` at once when a profile names no installed plugin, has a bad config, or lets
 * tenants set a field that is not the plugin's or is locked, so a bad profile stops start-up.
 */
export function createStorageResolver(registry: PluginRegistry, context: StorageResolverContext): StorageResolver {
  const validator = createSchemaValidator();
  const instances = new Map<string, Promise<StorageBackend>>();
  const made: Array<{ name: string; instance: StorageBackend }> = [];
  let closed = false;
  const settings = { ...(context.storage && { storage: context.storage }), ...(context.defaultStorageConfig && { defaultStorageConfig: context.defaultStorageConfig }) };
  const problems = storageSettingsProblems(settings);
  if (problems.length > 0) {
    throw new InputError(`invalid storage profiles: ${describeProblems(problems)}`, { field: problems[0]!.path, hint: 'Correct storage.profiles in the Helm values.' });
  }
  const { profiles, defaultProfile } = storageProfilesOf(settings);
  const installed = () => registry.ofKind('storage').map((p) => p.name);
  const profileList = () => [...profiles.values()].map((p) => `${p.name} (${p.key})`).join(', ') || 'none';

  const pluginOf = (key: string, field: string): LoadedPlugin<'storage'> => {
    const plugin = registry.find('storage', key);
    if (plugin !== undefined) return plugin;
    const firstPartyPackage = FIRST_PARTY_STORAGE_PACKAGES[key];
    throw new InputError(`${field}: no storage plugin named "${key}" is installed (installed storage plugins: ${installed().join(', ') || 'none'})`, {
      field,
      hint: firstPartyPackage
        ? `Add ${firstPartyPackage} to plugins: in the Helm values, or use one of the installed storage plugins.`
        : `Install the storage plugin named "${key}" and list it under plugins: in the Helm values, or use one of the installed storage plugins.`,
    });
  };

  const validate = (plugin: LoadedPlugin<'storage'>, key: string, value: Record<string, unknown>, field: string, fix: string): Record<string, unknown> => {
    const result = validator.compile(plugin.definition.configSchema)<Record<string, unknown>>(value, field);
    if (result.problems.length > 0) {
      throw new InputError(`invalid ${key} storage config: ${describeProblems(result.problems)}`, { field: result.problems[0]!.path, hint: fix });
    }
    return result.value;
  };

  // Fail closed at start-up: every profile must name an installed plugin, be valid, and let
  // tenants set only the plugin's own, unlocked fields.
  const validated = new Map<string, Record<string, unknown>>();
  for (const profile of profiles.values()) {
    const field = joinFieldPath(profile.path, profile.key);
    const plugin = pluginOf(profile.key, field);
    if (!isObject(profile.config)) throw new InputError(`${field} must be an object (the ${profile.key} storage plugin's config)`, { field });
    validated.set(profile.name, validate(plugin, profile.key, profile.config, field, `Correct ${field} in the Helm values; the fields are those of the ${profile.key} storage plugin.`));
    const known = plugin.definition.configSchema.properties as Record<string, unknown> | undefined;
    for (const settable of Object.keys(profile.tenantSettable)) {
      const at = joinFieldPath(joinFieldPath(profile.path, 'tenantSettable'), settable);
      if (isLockedStorageField(settable)) {
        throw new InputError(`${at}: ${settable} says where credentials are sent (or is a credential) and can never be tenant-settable`, {
          field: at,
          hint: `Remove ${at} and set the value in the profile itself.`,
        });
      }
      if (known !== undefined && !(settable in known)) {
        throw new InputError(`${at}: the ${profile.key} storage plugin has no field ${settable} (fields: ${Object.keys(known).join(', ')})`, { field: at });
      }
    }
  }

  const pickProfile = (config: Record<string, unknown>, key: string | undefined, where: string) => {
    const named = config.profile;
    const profileField = joinFieldPath(where, 'profile');
    if (named !== undefined) {
      const profile = typeof named === 'string' ? profiles.get(named) : undefined;
      if (profile === undefined) {
        throw new InputError(`${profileField}: there is no storage profile named ${JSON.stringify(named)} (profiles: ${profileList()})`, {
          field: profileField,
          hint: 'Name one of the profiles listed, or ask the platform team to add it under storage.profiles in the Helm values.',
        });
      }
      if (key !== undefined && key !== profile.key) {
        const field = joinFieldPath(where, key);
        throw new InputError(`${field}: the storage profile ${profile.name} stores in ${profile.key}, not ${key}`, {
          field,
          hint: `Remove ${field}, or set it as ${joinFieldPath(where, profile.key)}, or pick a profile that uses ${key}.`,
        });
      }
      return profile;
    }
    const fallback = defaultProfile === undefined ? undefined : profiles.get(defaultProfile);
    if (key === undefined) {
      if (fallback === undefined) {
        throw new InputError(`${where} names no storage profile and no default storage profile is configured`, {
          field: profileField,
          hint: `Set ${profileField} (profiles: ${profileList()}), or storage.defaultProfile in the Helm values.`,
        });
      }
      return fallback;
    }
    if (fallback?.key === key) return fallback;
    const candidates = [...profiles.values()].filter((p) => p.key === key);
    if (candidates.length === 1) return candidates[0]!;
    throw new InputError(
      candidates.length === 0
        ? `${joinFieldPath(where, key)}: no storage profile uses the ${key} backend (profiles: ${profileList()})`
        : `${where} names the ${key} backend, which several storage profiles use (${candidates.map((p) => p.name).join(', ')}), but no profile`,
      {
        field: profileField,
        hint:
          candidates.length === 0
            ? `Storage is configured by the platform: set ${profileField} to one of the profiles, or ask the platform team for a ${key} profile under storage.profiles in the Helm values.`
            : `Set ${profileField} to one of ${candidates.map((p) => p.name).join(', ')}.`,
      },
    );
  };

  const check = (storageConfig: StorageConfig | undefined, where = 'storageConfig'): SelectedStorage => {
    const config: Record<string, unknown> = storageConfig ?? {};
    if (!isObject(config)) throw new InputError(`${where} must be an object naming a storage profile or backend`, { field: where });
    if (profiles.size === 0) {
      throw new InputError(`${where}: no storage is configured`, {
        field: where,
        hint: 'Storage is platform policy: define storage.profiles (or the defaultStorageConfig shorthand) in the Helm values.',
      });
    }
    const keys = Object.keys(config).filter((k) => k !== 'presign' && k !== 'profile' && config[k] !== undefined);
    if (keys.length > 1) {
      throw new InputError(`${where} names ${keys.length} storage backends (${keys.join(', ')}), but at most one is allowed`, {
        field: where,
        hint: `Set ${joinFieldPath(where, 'profile')} (profiles: ${profileList()}) and at most the one backend that profile uses; presign may be set besides.`,
      });
    }
    const profile = pickProfile(config, keys[0], where);
    const key = profile.key;
    const plugin = pluginOf(key, joinFieldPath(profile.path, key));
    const base = validated.get(profile.name)!;
    const field = joinFieldPath(where, key);
    const tenant = config[key];
    if (tenant !== undefined && !isObject(tenant)) throw new InputError(`${field} must be an object (the ${key} storage plugin's config)`, { field });
    // Every field the resource sets must be the profile's value, or an allowed tenant value.
    const merged: Record<string, unknown> = { ...profile.config };
    for (const [name, value] of Object.entries(tenant ?? {})) {
      if (value === undefined || sameValue(value, base[name])) continue;
      const at = joinFieldPath(field, name);
      const patterns = profile.tenantSettable[name];
      if (patterns !== undefined && !isLockedStorageField(name) && matchesTenantGlobs(value, patterns)) {
        merged[name] = value;
        continue;
      }
      const allowValues = `storage.profiles.${profile.name}.tenantSettable.${name}`;
      throw new InputError(
        isLockedStorageField(name)
          ? `${at} is set by the platform's storage profile ${profile.name}, not by resources, and differs from it`
          : patterns === undefined
            ? `${at}: the storage profile ${profile.name} does not let resources set ${name}`
            : `${at}: the storage profile ${profile.name} allows only values matching ${patterns.join(', ')}`,
        {
          field: at,
          hint: isLockedStorageField(name)
            ? `Remove ${at} (the profile's value is used), or pick another profile with ${joinFieldPath(where, 'profile')}; endpoints, accounts and credentials come only from storage.profiles in the Helm values.`
            : `Remove ${at} to use the profile's value, pick another profile with ${joinFieldPath(where, 'profile')}, or ask the platform team to allow it with the Helm value ${allowValues}.`,
        },
      );
    }
    const path = tenant === undefined ? profile.path : where;
    const value = validate(
      plugin,
      key,
      merged,
      joinFieldPath(path, key),
      `Correct ${field}; the fields are those of the ${key} storage plugin, and storage profile ${profile.name} supplies the rest.`,
    );
    const presign = mergePresign(config.presign as PresignConfig | undefined, profile.presign);
    return { key, config: value, plugin, profile: profile.name, where: path, ...(presign === undefined ? {} : { presign }) };
  };

  const create = async (selected: SelectedStorage): Promise<StorageBackend> => {
    const { plugin, key, config, where } = selected;
    const configPath = joinFieldPath(where, key);
    const pluginContext: PluginContext = {
      logger: context.logger.child({ plugin: key, pluginKind: 'storage' }),
      signal: context.signal ?? new AbortController().signal,
      clock: context.clock ?? systemClock,
      configPath,
      ...(context.readSecret === undefined ? {} : { readSecret: context.readSecret }),
    };
    let instance: StorageBackend;
    try {
      instance = await plugin.definition.create(config, pluginContext);
    } catch (err) {
      throw withContext(err, `${configPath}: the ${key} storage plugin could not start`, {
        ...(typeof (err as { field?: unknown }).field === 'string' ? { field: joinFieldPath(configPath, (err as { field: string }).field) } : {}),
      });
    }
    const bad = checkInstance(plugin.definition, instance);
    if (bad !== undefined) {
      await closeAll([{ name: key, instance }], context.logger);
      throw new Error(`${configPath}: the ${key} storage plugin is broken: ${bad}`);
    }
    if (closed) {
      await closeAll([{ name: key, instance }], context.logger);
      throw new Error('the storage resolver was closed');
    }
    made.push({ name: `storage plugin ${key}`, instance });
    return instance;
  };

  return {
    check,
    async resolve(storageConfig, where) {
      if (closed) throw new Error('the storage resolver was closed');
      const selected = check(storageConfig, where);
      const id = `${selected.key}\0${canonicalJson(selected.config)}`;
      let pending = instances.get(id);
      if (pending === undefined) {
        pending = create(selected);
        instances.set(id, pending);
        // A failed create is not remembered: the next resolve tries again (the backend may be back).
        pending.catch(() => {
          if (instances.get(id) === pending) instances.delete(id);
        });
      }
      return pending;
    },
    async close() {
      if (closed) return;
      closed = true;
      instances.clear();
      await closeAll(made.splice(0).reverse(), context.logger);
    },
  };
}
