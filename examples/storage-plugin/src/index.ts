/**
 * `@opendepot-example/storage-webdav`: OpenDepot storage on any WebDAV server, selected by
 * `storageConfig.webdav`. A third-party plugin: it uses nothing of OpenDepot but the public
 * `@opendepot/sdk`.
 * @packageDocumentation
 */
import { definePlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type WebDavStorageConfig } from './config.ts';
import { openWebDavStorage } from './open.ts';

export { configSchema, DEFAULT_REQUEST_TIMEOUT_SECONDS, type WebDavStorageConfig, type SecretKeyRef } from './config.ts';
export { openWebDavStorage, type OpenOptions } from './open.ts';
export { WebDavStorage, type WebDavStorageOptions } from './storage.ts';
export { DavClient, type DavClientOptions } from './dav-client.ts';

/** The plugin: `kind: storage`, `name: webdav`. */
export default definePlugin({
  kind: 'storage',
  name: 'webdav',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: WebDavStorageConfig, context) {
    const storage = await openWebDavStorage(config, {
      logger: context.logger,
      now: () => context.clock.now(),
      signal: context.signal,
      ...(context.readSecret === undefined ? {} : { readSecret: (name: string, key: string) => context.readSecret!(name, key) }),
    });
    context.logger.info('webdav storage ready', { url: config.url });
    return storage;
  },
});
