/** The loaded plugins: definitions (for per-resource instances) and the instances made at start-up. */
import type { Logger, Plugin, PluginKind, PluginKinds } from '@opendepot/sdk';

/** One loaded plugin. */
export interface LoadedPlugin<K extends PluginKind = PluginKind> {
  kind: K;
  name: string;
  apiVersion: string;
  /** The package name or path, as configured (`inline` for {@link pluginRegistryOf}). */
  source: string;
  /** From the plugin's package.json, when it has one. */
  packageName?: string;
  version?: string;
  /** The configuration entry, e.g. `plugins[2]`. */
  configPath: string;
  definition: Plugin<K>;
  /**
   * The instance `create` made from `plugins[i].config`. Absent for storage plugins, whose
   * instances are made per `storageConfig` by the storage resolver.
   */
  instance?: PluginKinds[K];
}

/** The loaded plugins, in `plugins:` order. */
export interface PluginRegistry {
  readonly plugins: readonly LoadedPlugin[];
  /** The plugin of this kind and name, if loaded. */
  find<K extends PluginKind>(kind: K, name: string): LoadedPlugin<K> | undefined;
  /** The loaded plugins of one kind, in `plugins:` order. */
  ofKind<K extends PluginKind>(kind: K): LoadedPlugin<K>[];
  /** The instances of one kind, in `plugins:` order (the auth chain, the scanners). */
  instances<K extends PluginKind>(kind: K): PluginKinds[K][];
  /** Calls `close()` on every instance, newest first. Errors are logged, not thrown. Idempotent. */
  close(): Promise<void>;
}

/** Makes a registry over already-loaded plugins; `logger` receives `close()` failures. */
export function createPluginRegistry(plugins: readonly LoadedPlugin[], logger?: Logger): PluginRegistry {
  let closing: Promise<void> | undefined;
  const list = Object.freeze([...plugins]);
  return {
    plugins: list,
    find: <K extends PluginKind>(kind: K, name: string) => list.find((p) => p.kind === kind && p.name === name) as LoadedPlugin<K> | undefined,
    ofKind: <K extends PluginKind>(kind: K) => list.filter((p) => p.kind === kind) as LoadedPlugin<K>[],
    instances: <K extends PluginKind>(kind: K) => list.filter((p) => p.kind === kind && p.instance !== undefined).map((p) => p.instance as PluginKinds[K]),
    close() {
      closing ??= closeAll(
        list
          .filter((p) => p.instance !== undefined)
          .reverse()
          .map((p) => ({ name: `${p.kind} plugin ${p.name}`, instance: p.instance })),
        logger,
      );
      return closing;
    },
  };
}

/**
 * A registry of plugin definitions without instances: what the storage resolver needs, for
 * hosts and tests that have the definitions in hand instead of in configuration.
 */
export function pluginRegistryOf(...definitions: Plugin[]): PluginRegistry {
  return createPluginRegistry(
    definitions.map((definition, i) => ({
      kind: definition.kind,
      name: definition.name,
      apiVersion: definition.apiVersion,
      source: 'inline',
      configPath: `plugins[${i}]`,
      definition,
    })),
  );
}

/** Closes instances one after another; a failing `close` is logged and the rest still close. */
export async function closeAll(items: ReadonlyArray<{ name: string; instance: unknown }>, logger?: Logger): Promise<void> {
  for (const { name, instance } of items) {
    const close = (instance as { close?: unknown } | undefined)?.close;
    if (typeof close !== 'function') continue;
    try {
      await close.call(instance);
    } catch (err) {
      logger?.warn('closing a plugin instance failed', { plugin: name, err });
    }
  }
}
