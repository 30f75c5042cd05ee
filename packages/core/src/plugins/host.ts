/**
 * What the operator and the server both do at start-up with the `plugins:` configuration: load
 * every plugin (failing closed), make the storage resolver for per-resource `storageConfig`,
 * and register both in one DI container that disposes them on shutdown.
 */
import type { Logger } from '@opendepot/sdk';
import type { HostConfig } from '../config/host-config.ts';
import type { PluginEntry } from './entry.ts';
import { createContainer, type Container } from '../di/container.ts';
import { TOKENS } from '../di/tokens.ts';
import { loadPlugins } from './loader.ts';
import type { PluginRegistry } from './registry.ts';
import { createStorageResolver, type StorageResolver } from './storage-resolver.ts';

/** The loaded plugins of a host process. */
export interface PluginHost {
  container: Container;
  registry: PluginRegistry;
  storage: StorageResolver;
  /** Aborted on {@link PluginHost.close}; handed to every plugin. */
  signal: AbortSignal;
  /** Aborts the plugins' signal and disposes every instance. */
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

/** Loads the configured plugins and the storage resolver; rejects (naming the plugin) if any fails. */
export async function startPluginHost(config: HostConfig, options: PluginHostOptions): Promise<PluginHost> {
  const shutdown = new AbortController();
  const container = createContainer();
  const registry = await loadPlugins(config.plugins, {
    container,
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
  container.register(TOKENS.storageResolver, storage, { dispose: () => storage.close() });
  return {
    container,
    registry,
    storage,
    signal: shutdown.signal,
    async close() {
      shutdown.abort();
      await container.dispose();
    },
  };
}
