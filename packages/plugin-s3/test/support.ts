/** What the plugin's tests share: a MinIO with a bucket, and plugin contexts as a host makes them. */
import type { Logger, PluginContext } from '@opendepot/sdk';
import { startMinio, type Minio } from '@opendepot/testbed';
import type { S3StorageConfig } from '../src/index.ts';

/** Name of the Secret the tests' `readSecret` serves MinIO's credentials from. */
export const SECRET_NAME = 'minio-credentials';

/** A logger that remembers every line, so tests can check what was (and was not) logged. */
export function recordingLogger(lines: string[] = []): Logger {
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'), child: () => logger };
  return logger;
}

/** Secrets by name, then key, as `readSecret` serves them. */
export type Secrets = Record<string, Record<string, string>>;

/**
 * A plugin context as the host passes it. `readSecret` behaves like the operator's: it throws
 * when the Secret or the key is missing. Pass `secrets: undefined` for a host without Secret access.
 */
export function pluginContext(options: { secrets?: Secrets | undefined; logger?: Logger; now?: () => number } = {}): PluginContext {
  const { secrets } = options;
  return {
    logger: options.logger ?? recordingLogger(),
    signal: new AbortController().signal,
    clock: { now: options.now ?? (() => Date.now()) },
    configPath: 'storageConfig.s3',
    ...(secrets !== undefined && {
      readSecret: async (name: string, key: string) => {
        const value = secrets[name]?.[key];
        if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
        return value;
      },
    }),
  };
}

/** MinIO's root credentials as the Secret the config references. */
export function credentialSecrets(minio: Minio): Secrets {
  return { [SECRET_NAME]: { AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: `${minio.secretAccessKey}\n` } };
}

/** The `storageConfig.s3` block for `bucket` on `minio`, credentials from the Secret. */
export function minioConfig(minio: Minio, bucket: string, prefix?: string): S3StorageConfig {
  return {
    bucket,
    region: minio.region,
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentialsSecretRef: { name: SECRET_NAME },
    // The platform names MinIO's host; nothing else gets the credentials.
    allowedEndpointHosts: [new URL(minio.endpoint).hostname],
    ...(prefix !== undefined && { prefix }),
  };
}

export { startMinio, type Minio };
