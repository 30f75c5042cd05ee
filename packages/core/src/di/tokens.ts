/** The tokens core registers. Plugin kinds and names have their own, made by functions. */
import type { Clock, Logger, PluginKind, PluginKinds } from '@opendepot/sdk';
import type { HostConfig } from '../config/host-config.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { StorageResolver } from '../plugins/storage-resolver.ts';
import { createToken, type Token } from './token.ts';

/** Well-known tokens of the host's services. */
export const TOKENS = {
  logger: createToken<Logger>('logger'),
  clock: createToken<Clock>('clock'),
  config: createToken<HostConfig>('config'),
  pluginRegistry: createToken<PluginRegistry>('plugin-registry'),
  storageResolver: createToken<StorageResolver>('storage-resolver'),
} as const;

/**
 * Every loaded plugin instance of one kind (`resolveAll`: the auth chain, the scanners), in the
 * order of the `plugins:` list.
 */
export function pluginKindToken<K extends PluginKind>(kind: K): Token<PluginKinds[K]> {
  return createToken<PluginKinds[K]>(`plugin.${kind}`);
}

/** The instance of the plugin of this kind and name. */
export function pluginToken<K extends PluginKind>(kind: K, name: string): Token<PluginKinds[K]> {
  return createToken<PluginKinds[K]>(`plugin.${kind}.${name}`);
}
