/** Plugins: the `plugins:` entry, the loader, the registry of loaded plugins, the storage resolver. */
export * from './entry.ts';
export * from './plugin-load-error.ts';
export * from './registry.ts';
export * from './check-plugin.ts';
export * from './loader.ts';
export * from './storage-resolver.ts';
export * from './canonical-json.ts';
export * from './host.ts';
