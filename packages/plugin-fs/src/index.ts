/**
 * `@opendepot/plugin-fs`: OpenDepot storage on a filesystem directory, selected by
 * `storageConfig.filesystem`.
 * @packageDocumentation
 */
import { definePlugin, InputError, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type FilesystemStorageConfig } from './config.ts';
import { FilesystemStorage } from './storage.ts';

export { FilesystemStorage, type FilesystemStorageOptions } from './storage.ts';
export { configSchema, type FilesystemStorageConfig } from './config.ts';

/** The plugin: `kind: storage`, `name: filesystem`. */
export default definePlugin({
  kind: 'storage',
  name: 'filesystem',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: FilesystemStorageConfig, context) {
    const field = `${context.configPath}.path`;
    let storage: FilesystemStorage;
    try {
      storage = new FilesystemStorage(config, { logger: context.logger, now: () => context.clock.now() });
      await storage.init();
    } catch (err) {
      // Outside the root is the platform's boundary: its own message and hint.
      if (err instanceof InputError && err.field === 'path') throw new InputError(err.message, { field, cause: err, ...(err.hint !== undefined && { hint: err.hint }) });
      throw new InputError(`filesystem storage cannot use ${JSON.stringify(config?.path)}: ${(err as Error).message}`, {
        field,
        cause: err,
        hint: 'Set path to an absolute directory that exists or can be created, and that the process can write (in a cluster: a ReadWriteMany volume mounted into the operator and the server).',
      });
    }
    context.logger.info('filesystem storage ready', { path: storage.root });
    return storage;
  },
});
