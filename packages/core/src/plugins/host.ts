/**
 * What the operator and the server both do at start-up with the `plugins:` configuration: load
 * every plugin (failing closed), make the storage resolver for per-resource `storageConfig`,
 * and close both, in the right order, on shutdown.
 */
import type { Logger } from '@opendepot/sdk';
import type { HostConfig } from '../config/host-config.ts';
import type { PluginEntry } from './entry.ts';
import { loadPlugins } from './loader.ts';
import type { PluginRegistry } from './registry.ts';
import { createStorageResolver, type StorageResolver } from './storage-resolver.ts';

/** The loaded plugins of a host process. */
export interface PluginHost {
  registry: PluginRegistry;
  storage: StorageResolver;
  /** Aborted on {@link PluginHost.close}; handed to every plugin. */
  signal: AbortSignal;
  /** Aborts the plugins' signal, then closes the storage instances and the plugin instances. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startPluginHost}. */
export interface PluginHostOptions {
  logger: Logger;
  /** Where relative plugin paths and packages are resolved from. */
  baseDir?: string;
  /** The host package's directory: its own dependencies (the first-party plugins) resolve from it. */
  hostDir?: string;
  /** Reads a key of a Secret in the host's namespace, for plugin credentials. */
  readSecret?(name: string, key: string): Promise<string>;
  /** Plugin kinds this host does not use: not created (see `loadPlugins`). */
  skipKinds?: readonly string[];
  /** Plugins offered by default unless configured (see `loadPlugins`). */
  defaults?: readonly PluginEntry[];
  /** Path of the defaults in messages. */
  defaultsPath?: string;
}

/** The parts of the host configuration the plugin host reads. */
export type PluginHostConfig = Pick<HostConfig, 'plugins' | 'pluginsDir' | 'storage' | 'defaultStorageConfig'>;

/** Loads the configured plugins and the storage resolver; rejects (naming the plugin) if any fails. */
export async function startPluginHost(config: PluginHostConfig, options: PluginHostOptions): Promise<PluginHost> {
  const shutdown = new AbortController();
  const registry = await loadPlugins(config.plugins, {
    logger: options.logger,
    signal: shutdown.signal,
    ...(options.readSecret && { readSecret: options.readSecret }),
    ...(config.pluginsDir && { pluginsDir: config.pluginsDir }),
    ...(options.baseDir && { baseDir: options.baseDir }),
    ...(options.hostDir && { hostDir: options.hostDir }),
    ...(options.skipKinds && { skipKinds: options.skipKinds }),
    ...(options.defaults && { defaults: options.defaults }),
    ...(options.defaultsPath && { defaultsPath: options.defaultsPath }),
  });
  const storage = createStorageResolver(registry, {
    logger: options.logger,
    signal: shutdown.signal,
    // Storage plugins read credentials from Secrets too (credentialsSecretRef).
    ...(options.readSecret && { readSecret: options.readSecret }),
    ...(config.storage && { storage: config.storage }),
    ...(config.defaultStorageConfig && { defaultStorageConfig: config.defaultStorageConfig }),
  });
  let closing: Promise<void> | undefined;
  return {
    registry,
    storage,
    signal: shutdown.signal,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        // Newest first: the storage instances were made from the registry's definitions. Neither
        // close throws (failures are logged), so the second always runs.
        await storage.close();
        await registry.close();
      })();
      return closing;
    },
  };
}
