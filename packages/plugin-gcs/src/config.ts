/** The plugin's configuration (`storageConfig.gcs`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** Configuration of the Google Cloud Storage backend: the shape of the CRDs' `storageConfig.gcs`. */
export interface GcsStorageConfig {
  /** Bucket name. */
  bucket: string;
  /** Object name prefix, e.g. `opendepot/`; a `/` is added when it does not end with one. */
  prefix?: string;
  /**
   * Endpoint URL of a GCS-compatible service (an emulator) or a private Google endpoint, e.g.
   * `http://fake-gcs.storage:4443`. Unset means `https://storage.googleapis.com`.
   */
  endpoint?: string;
  /** Secret with key `credentials.json` (a service account key). Unset means the ambient credential chain. */
  credentialsSecretRef?: { name: string };
}

/** The key of the referenced Secret that holds the service account key. */
export const CREDENTIALS_SECRET_KEY = 'credentials.json';

/** JSON Schema (draft-07) of {@link GcsStorageConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'gcs storage',
  description: 'Stores objects in a Google Cloud Storage bucket, optionally under a name prefix.',
  type: 'object',
  additionalProperties: false,
  required: ['bucket'],
  properties: {
    bucket: {
      type: 'string',
      description: 'Bucket name, e.g. opendepot-modules. The bucket must exist.',
      pattern: '^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$',
      maxLength: 222,
    },
    prefix: {
      type: 'string',
      description: 'Object name prefix, e.g. opendepot/ (a trailing / is added when missing). Empty means the bucket root.',
      maxLength: 512,
    },
    endpoint: {
      type: 'string',
      description:
        'Endpoint URL of a GCS-compatible service such as an emulator, or of a private Google endpoint, e.g. http://fake-gcs.storage:4443. Presigned URLs point at it too. Unset means https://storage.googleapis.com.',
      pattern: '^https?://\\S+$',
      maxLength: 2048,
    },
    credentialsSecretRef: {
      type: 'object',
      description: `Secret in the host's namespace with key ${CREDENTIALS_SECRET_KEY} (a service account key). Unset means the ambient credential chain: workload identity or the metadata server.`,
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: {
          type: 'string',
          description: 'Name of the Secret.',
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
          maxLength: 253,
        },
      },
    },
  },
};
