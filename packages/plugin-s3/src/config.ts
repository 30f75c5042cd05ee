/** The plugin's configuration (`storageConfig.s3`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** A Secret in OpenDepot's namespace holding S3 credentials. */
export interface S3CredentialsSecretRef {
  /** Name of the Secret. */
  name: string;
}

/** Configuration of the S3 storage backend: the `s3` key of a `storageConfig`. */
export interface S3StorageConfig {
  /** Bucket name. */
  bucket: string;
  /** Region of the bucket, e.g. `us-west-2`; any value an S3-compatible service accepts (MinIO: `us-east-1`). */
  region: string;
  /** Key prefix every object is stored under, e.g. `opendepot/`. Empty means the bucket root. */
  prefix?: string;
  /** Endpoint URL of an S3-compatible service, e.g. `http://minio.storage:9000`. Unset means AWS. */
  endpoint?: string;
  /** Address the bucket as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>`. */
  forcePathStyle?: boolean;
  /** Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and optionally `AWS_SESSION_TOKEN`). */
  credentialsSecretRef?: S3CredentialsSecretRef;
  /**
   * Hosts besides AWS's own S3 hosts that `endpoint` may name (a host name, `host:port`, or
   * `*.suffix`): credentials are sent nowhere else. Set by the platform in a storage profile.
   */
  allowedEndpointHosts?: string[];
}

/** The Secret keys the plugin reads when `credentialsSecretRef` is set. */
export const SECRET_KEYS = {
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  sessionToken: 'AWS_SESSION_TOKEN',
} as const;

/**
 * JSON Schema (draft-07) of {@link S3StorageConfig}; the host validates config against it. The
 * same fields, patterns and limits as the `s3` block of the CRDs' `storageConfig`, so whatever
 * the API server accepts, the plugin accepts.
 */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 's3 storage',
  description: 'Amazon S3, or an S3-compatible service (MinIO, Ceph, R2) when endpoint is set.',
  type: 'object',
  additionalProperties: false,
  required: ['bucket', 'region'],
  properties: {
    bucket: {
      type: 'string',
      description: 'Bucket name. It must exist; the plugin never creates buckets.',
      pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      maxLength: 63,
    },
    region: {
      type: 'string',
      description: 'Region of the bucket, e.g. us-west-2. S3-compatible services usually accept us-east-1.',
      pattern: '^[a-z0-9-]+$',
      maxLength: 64,
    },
    prefix: {
      type: 'string',
      description: 'Key prefix under which objects are stored, e.g. opendepot/ (a missing trailing / is added). Empty means the bucket root.',
      maxLength: 512,
    },
    endpoint: {
      type: 'string',
      description: 'Endpoint URL of an S3-compatible service, e.g. http://minio.storage:9000. Unset means AWS.',
      pattern: '^https?://\\S+$',
      maxLength: 2048,
    },
    forcePathStyle: {
      type: 'boolean',
      description: 'Address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint>; most S3-compatible services need this. Default: false.',
    },
    credentialsSecretRef: {
      type: 'object',
      description:
        "Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and optionally AWS_SESSION_TOKEN), read from the namespace OpenDepot runs in (the operator and the server both read it), not from the resource's, and re-read every 5 minutes. Unset means the standard AWS credential chain (environment, IRSA web identity, ECS, instance profile).",
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
    allowedEndpointHosts: {
      type: 'array',
      description:
        "Hosts endpoint may name besides AWS's own S3 hosts: a host name (any port), host:port, or *.suffix. Credentials and signed requests go nowhere else; set by the platform in a storage profile, never by resources. Default: none (AWS only).",
      items: { type: 'string', minLength: 1, maxLength: 253 },
    },
  },
};
