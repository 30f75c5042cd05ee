/**
 * Storage instances from per-resource `storageConfig`: the single backend key names the storage
 * plugin (`filesystem`, `s3`, `azureBlob`, `gcs`, or any installed plugin's name), its value is
 * that plugin's config, validated against the plugin's schema. One instance per distinct config.
 */
import { InputError, type Clock, type Logger, type PluginContext, type StorageBackend } from '@opendepot/sdk';
import { joinFieldPath } from '../config/field-path.ts';
import { createSchemaValidator, describeProblems } from '../config/json-schema.ts';
import type { PresignConfig, StorageConfig } from '../crds/storage.ts';
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
  /** Used when a resource (and its Depot) sets no `storageConfig`: the chart's `defaultStorageConfig`. */
  defaultStorageConfig?: StorageConfig;
  /** Where the default came from, for messages. Default `defaultStorageConfig`. */
  defaultConfigPath?: string;
}

/** A checked `storageConfig`: the plugin it selects and its validated config. */
export interface SelectedStorage {
  /** The backend key, which is the storage plugin's name. */
  key: string;
  /** The backend's config, with the plugin schema's defaults filled in. */
  config: Record<string, unknown>;
  plugin: LoadedPlugin<'storage'>;
  /** `presign` of the config, if set (defaults in `PRESIGN_DEFAULTS`). */
  presign?: PresignConfig;
  /** Path of the config in messages, e.g. `spec.storageConfig` or `defaultStorageConfig`. */
  where: string;
}

/** Makes storage instances from `storageConfig`s. */
export interface StorageResolver {
  /**
   * The instance for a `storageConfig` (`undefined`: the default), made once per distinct
   * backend config and shared. `where` names the config in errors (default `storageConfig`),
   * e.g. `spec.storageConfig`. Rejects with an `InputError` naming the field for a bad config;
   * a failing `create` keeps its error code (so an unreachable backend stays transient).
   */
  resolve(storageConfig: StorageConfig | undefined, where?: string): Promise<StorageBackend>;
  /** Validates without creating anything (admission-style checks). Throws `InputError`. */
  check(storageConfig: StorageConfig | undefined, where?: string): SelectedStorage;
  /** Closes every instance made; later calls to `resolve` reject. */
  close(): Promise<void>;
}

/**
 * Makes a resolver over the storage plugins of `registry`. Throws `InputError` at once when
 * `context.defaultStorageConfig` is set but invalid, so a bad default stops start-up.
 */
export function createStorageResolver(registry: PluginRegistry, context: StorageResolverContext): StorageResolver {
  const validator = createSchemaValidator();
  const instances = new Map<string, Promise<StorageBackend>>();
  const made: Array<{ name: string; instance: StorageBackend }> = [];
  let closed = false;

  const check = (storageConfig: StorageConfig | undefined, where = 'storageConfig'): SelectedStorage => {
    let config = storageConfig;
    let path = where;
    if (config === undefined || config === null) {
      if (context.defaultStorageConfig === undefined) {
        throw new InputError(`${where} is not set and no default storage is configured`, {
          field: where,
          hint: `Set ${where} on the resource (or global on its Depot), or defaultStorageConfig in the Helm values.`,
        });
      }
      config = context.defaultStorageConfig;
      path = context.defaultConfigPath ?? 'defaultStorageConfig';
    }
    if (typeof config !== 'object' || Array.isArray(config)) {
      throw new InputError(`${path} must be an object with one storage backend key`, { field: path });
    }
    const installed = registry.ofKind('storage').map((p) => p.name);
    const keys = Object.keys(config).filter((k) => k !== 'presign' && config[k] !== undefined);
    if (keys.length !== 1) {
      throw new InputError(
        keys.length === 0
          ? `${path} names no storage backend`
          : `${path} names ${keys.length} storage backends (${keys.join(', ')}), but exactly one is allowed`,
        { field: path, hint: `Set exactly one of: ${installed.join(', ') || '(no storage plugin is installed)'}; presign may be set besides it.` },
      );
    }
    const key = keys[0]!;
    const field = joinFieldPath(path, key);
    const plugin = registry.find('storage', key);
    if (plugin === undefined) {
      const firstPartyPackage = FIRST_PARTY_STORAGE_PACKAGES[key];
      throw new InputError(
        `${field}: no storage plugin named "${key}" is installed (installed storage plugins: ${installed.join(', ') || 'none'})`,
        {
          field,
          hint: firstPartyPackage
            ? `Add ${firstPartyPackage} to plugins: in the Helm values, or use one of the installed storage plugins.`
            : `Install the storage plugin named "${key}" and list it under plugins: in the Helm values, or use one of the installed storage plugins.`,
        },
      );
    }
    const value = config[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError(`${field} must be an object (the ${key} storage plugin's config)`, { field });
    }
    const result = validator.compile(plugin.definition.configSchema)<Record<string, unknown>>(value, field);
    if (result.problems.length > 0) {
      throw new InputError(`invalid ${key} storage config: ${describeProblems(result.problems)}`, {
        field: result.problems[0]!.path,
        hint: `Correct ${field}; the fields are those of the ${key} storage plugin.`,
      });
    }
    const presign = config.presign;
    return { key, config: result.value, plugin, where: path, ...(presign === undefined ? {} : { presign }) };
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

  // Fail closed at start-up: a default that names no installed plugin or has a bad config stops the host.
  if (context.defaultStorageConfig !== undefined) check(undefined);

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
