/**
 * `@opendepot/plugin-gcs`: OpenDepot storage in a Google Cloud Storage bucket, selected by
 * `storageConfig.gcs`, with resumable uploads and V4 signed download URLs.
 * @packageDocumentation
 */
import { definePlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type GcsStorageConfig } from './config.ts';
import { loadCredentials } from './credentials.ts';
import { GcsStorage } from './storage.ts';

export { GcsStorage, clientOptionsOf, sendsTokensTo, type GcsStorageOptions } from './storage.ts';
export { configSchema, CREDENTIALS_SECRET_KEY, type GcsStorageConfig } from './config.ts';
export { parseCredentials, type ServiceAccountKey } from './credentials.ts';
export { UPLOADS_FOLDER } from '@opendepot/sdk';

/** The plugin: `kind: storage`, `name: gcs`. */
export default definePlugin({
  kind: 'storage',
  name: 'gcs',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: GcsStorageConfig, context) {
    const credentials = await loadCredentials(config, context);
    const storage = new GcsStorage({
      bucket: config.bucket,
      prefix: config.prefix,
      endpoint: config.endpoint,
      credentials,
      logger: context.logger,
    });
    // Fails with an SDK error: an unreachable endpoint stays transient, a missing bucket does not.
    await storage.probe(context.signal);
    context.logger.info('gcs storage ready', {
      bucket: config.bucket,
      prefix: storage.prefix,
      endpoint: config.endpoint ?? 'https://storage.googleapis.com',
      credentials: config.credentialsSecretRef === undefined ? 'ambient' : `secret ${config.credentialsSecretRef.name}`,
    });
    return storage;
  },
});
