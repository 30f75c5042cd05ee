/** `definePlugin`: how a package declares an OpenDepot plugin. */
import type { ArchiveSource } from './archive-source.ts';
import type { AuthProvider } from './auth.ts';
import type { PluginContext } from './context.ts';
import type { Scanner } from './scanner.ts';
import type { StorageBackend } from './storage.ts';

/**
 * The plugin API version this SDK implements. A plugin declares the version it was written
 * against; the host refuses plugins whose version it does not implement.
 */
export const PLUGIN_API_VERSION = 'opendepot.defdev.io/plugin/v1';

/** The plugin kinds, and the instance type each kind's `create` returns. */
export interface PluginKinds {
  storage: StorageBackend;
  'archive-source': ArchiveSource;
  scanner: Scanner;
  auth: AuthProvider;
}

/** One of the plugin kinds. */
export type PluginKind = keyof PluginKinds;

/** The plugin kinds, as a runtime list. */
export const PLUGIN_KINDS: readonly PluginKind[] = ['storage', 'archive-source', 'scanner', 'auth'];

/** A JSON Schema (draft-07) object describing a plugin's config. */
export type JsonSchema = { [keyword: string]: unknown };

/** What a plugin package passes to {@link definePlugin}. */
export interface PluginDefinition<K extends PluginKind, C> {
  /** The kind of plugin. */
  kind: K;
  /** Short unique name, e.g. `s3`; also the `storageConfig` key that selects a storage plugin. */
  name: string;
  /** The plugin API version it was written against: {@link PLUGIN_API_VERSION}. */
  apiVersion: string;
  /** JSON Schema of the config; the host validates config against it before `create`. */
  configSchema: JsonSchema;
  /** Makes an instance from validated config. Throw to stop the host's start-up. */
  create(config: C, context: PluginContext): PluginKinds[K] | Promise<PluginKinds[K]>;
}

/** A defined plugin: the definition plus the brand the host checks. */
export type Plugin<K extends PluginKind = PluginKind, C = unknown> = Readonly<PluginDefinition<K, C>> & {
  readonly [PLUGIN_BRAND]: true;
};

/**
 * The brand is a registered symbol, so a plugin built against one copy of the SDK is recognised
 * by a host that loaded another copy.
 */
export const PLUGIN_BRAND: unique symbol = Symbol.for('opendepot.plugin') as never;

/**
 * Declares a plugin. The package's default export must be the result.
 *
 * @example
 * export default definePlugin({
 *   kind: 'storage', name: 'webdav', apiVersion: PLUGIN_API_VERSION,
 *   configSchema: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
 *   create: (config: { url: string }, ctx) => new WebDavStorage(config, ctx),
 * });
 */
export function definePlugin<K extends PluginKind, C>(definition: PluginDefinition<K, C>): Plugin<K, C> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}

/** Tells whether `value` was made by {@link definePlugin} (from any copy of the SDK). */
export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
