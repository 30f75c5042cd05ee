/**
 * `@opendepot/plugin-s3`: OpenDepot storage on Amazon S3 or an S3-compatible service, selected
 * by `storageConfig.s3`.
 * @packageDocumentation
 */
import { definePlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type S3StorageConfig } from './config.ts';
import { secretCredentials } from './credentials.ts';
import { checkEndpoint } from './hosts.ts';
import { S3Storage } from './storage.ts';

export { S3Storage, MAX_PRESIGN_TTL_SECONDS, type S3StorageOptions } from './storage.ts';
export { configSchema, SECRET_KEYS, type S3StorageConfig, type S3CredentialsSecretRef } from './config.ts';
export { checkEndpoint, isAwsHost } from './hosts.ts';
export { secretCredentials, SECRET_REFRESH_MS, type S3Credentials, type S3CredentialsProvider } from './credentials.ts';

/** The plugin: `kind: storage`, `name: s3`. */
export default definePlugin({
  kind: 'storage',
  name: 's3',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: S3StorageConfig, context) {
    // Before any Secret is read or request made: credentials go only to AWS or allowed hosts.
    checkEndpoint(config.endpoint, config.allowedEndpointHosts ?? [], context.configPath);
    const credentials = config.credentialsSecretRef === undefined ? undefined : secretCredentials(config.credentialsSecretRef, context);
    const storage = new S3Storage(config, {
      ...(credentials !== undefined && { credentials }),
      logger: context.logger,
      now: () => context.clock.now(),
    });
    // Fail at start-up, not at the first upload: the bucket must exist and the credentials work.
    try {
      await storage.verifyBucket(context.signal);
    } catch (err) {
      await storage.close();
      throw err;
    }
    context.logger.info('s3 storage ready', {
      bucket: config.bucket,
      region: config.region,
      prefix: storage.prefix,
      ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
      credentials: config.credentialsSecretRef === undefined ? 'aws default chain' : `Secret ${config.credentialsSecretRef.name}`,
    });
    return storage;
  },
});
