/** `storageConfig`: where a module's or provider's archives are stored. */
import { secretRef } from './common.ts';
import { DURATION_PATTERN, HTTP_URL_PATTERN, HTTPS_URL_PATTERN } from './patterns.ts';
import { boolean, extensibleObject, object, string, type Static } from './schema.ts';

/**
 * Storage backends with a typed schema in the CRDs; any other key names a storage plugin. No
 * backend field is required here: the storage profile supplies what a resource leaves out, and
 * the merged config is checked against the plugin's schema.
 */
export const FIRST_PARTY_STORAGE_KEYS = ['s3', 'azureBlob', 'gcs', 'filesystem'] as const;

/** Defaults the operator and server apply when `presign` leaves a field out. */
export const PRESIGN_DEFAULTS = { enabled: false, ttl: '15m', fallbackToProxy: true } as const;

/**
 * Merges presign settings field by field, the first layer that sets a field winning: the
 * resource's own, then its Depot's `global`, then the storage profile's, then the chart's
 * `server.presign`. A partial block (`{ ttl: 3m }`) refines the layers under it instead of
 * replacing them. `undefined` when no layer sets anything; `PRESIGN_DEFAULTS` fill the rest.
 */
export function mergePresign(...layers: readonly (PresignConfig | undefined)[]): PresignConfig | undefined {
  const merged: Record<string, unknown> = {};
  for (const layer of [...layers].reverse()) {
    for (const [field, value] of Object.entries(layer ?? {})) if (value !== undefined && value !== null) merged[field] = value;
  }
  return Object.keys(merged).length === 0 ? undefined : (merged as PresignConfig);
}

/** Amazon S3 or an S3-compatible service. */
export const s3Schema = object('Amazon S3, or an S3-compatible service (MinIO, Ceph, R2) when endpoint is set.', {
  bucket: string('Bucket name.', { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', maxLength: 63 }),
  region: string('Region of the bucket, e.g. us-west-2.', { pattern: '^[a-z0-9-]+$', maxLength: 64 }),
  prefix: string('Key prefix under which objects are stored, e.g. opendepot/. Empty means the bucket root.', { maxLength: 512 }),
  endpoint: string('Endpoint URL of an S3-compatible service, e.g. http://minio.storage:9000. Unset means AWS.', {
    pattern: HTTP_URL_PATTERN,
    maxLength: 2048,
  }),
  forcePathStyle: boolean('Address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint>; most S3-compatible services need this.'),
  credentialsSecretRef: secretRef(
    'Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and optionally AWS_SESSION_TOKEN). Unset means the ambient AWS credential chain (IRSA, instance profile).',
    'opendepot',
  ),
});

/** Azure Blob Storage. */
export const azureBlobSchema = object('Azure Blob Storage.', {
  accountName: string('Storage account name.', { pattern: '^[a-z0-9]{3,24}$' }),
  accountUrl: string('Blob service URL of the account, e.g. https://opendepotmodules.blob.core.windows.net.', {
    pattern: HTTPS_URL_PATTERN,
    maxLength: 2048,
  }),
  subscriptionID: string('Azure subscription that holds the account.', {
    pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  }),
  resourceGroup: string('Resource group that holds the account.', { minLength: 1, maxLength: 90 }),
  container: string('Blob container to store objects in. Default: opendepot.', {
    pattern: '^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$',
  }),
  credentialsSecretRef: secretRef(
    'Secret with keys AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_KEY, or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET. Unset means workload identity or managed identity.',
    'opendepot',
  ),
});

/** Google Cloud Storage. */
export const gcsSchema = object('Google Cloud Storage.', {
  bucket: string('Bucket name.', { pattern: '^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$', maxLength: 222 }),
  prefix: string('Object name prefix, e.g. opendepot/. Empty means the bucket root.', { maxLength: 512 }),
  endpoint: string(
    'Endpoint URL of a GCS-compatible service (an emulator such as fake-gcs-server) or of a private Google endpoint, e.g. http://fake-gcs.storage:4443. Presigned URLs point at it too. Unset means https://storage.googleapis.com.',
    { pattern: HTTP_URL_PATTERN, maxLength: 2048 },
  ),
  credentialsSecretRef: secretRef('Secret with key credentials.json (a service account key). Unset means workload identity or the metadata server.', 'opendepot'),
});

/** A directory on a volume shared by the operator and the server. */
export const filesystemSchema = object('A directory on a ReadWriteMany volume mounted into both the operator and the server.', {
  path: string('Absolute path of the directory inside the containers, e.g. /data/opendepot.', { pattern: '^/', maxLength: 4096 }),
});

/** Pre-signed download URLs. */
export const presignSchema = object(
  "Pre-signed URLs: the server redirects clients to download straight from storage instead of proxying the bytes. Merged field by field: a field left out here comes from the Depot's global presign, then the storage profile's presign, then the chart's server.presign, then the default named on the field (so {ttl: 3m} keeps presigning on when a default turns it on). A change takes effect on already stored Versions too, immutable ones included.",
  {
    enabled: boolean(`Redirect downloads to pre-signed URLs. Default: ${PRESIGN_DEFAULTS.enabled}.`),
    ttl: string(`How long a pre-signed URL stays valid, as a duration such as 15m, 1h or 90s. Default: ${PRESIGN_DEFAULTS.ttl}.`, {
      pattern: DURATION_PATTERN,
      maxLength: 32,
    }),
    fallbackToProxy: boolean(
      `When a pre-signed URL cannot be made, proxy the download through the server instead of failing. Set false to guarantee that no artifact bytes pass through the server. Default: ${PRESIGN_DEFAULTS.fallbackToProxy}.`,
    ),
  },
);

/** `storageConfig`, with the first-party backends typed and room for plugin keys. */
export const storageConfigSchema = extensibleObject(
  "Where archives are stored: a storage profile the platform configured (profile), and/or one backend key (s3, azureBlob, gcs, filesystem, or the name of an installed storage plugin whose config is an object), plus optional presign settings. The profile supplies endpoints, accounts and credentials; a resource may only set the fields its profile lets tenants set (e.g. a bucket from an allowlist), to the same values as the profile or to allowed ones. A plugin key is validated against that plugin's config schema when the resource is reconciled.",
  {
    profile: string('Name of a storage profile from the Helm values (storage.profiles). Unset: the default profile, or the only profile of the backend named here.', {
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      maxLength: 63,
    }),
    s3: s3Schema,
    azureBlob: azureBlobSchema,
    gcs: gcsSchema,
    filesystem: filesystemSchema,
    presign: presignSchema,
  },
  {
    rules: [
      {
        // Plugin keys are invisible to CEL field access, but size() counts every key.
        rule: 'has(self.profile) ? size(dyn(self)) <= (has(self.presign) ? 3 : 2) : size(dyn(self)) == (has(self.presign) ? 2 : 1)',
        message:
          'set a storage profile, or exactly one storage backend (s3, azureBlob, gcs, filesystem, or the key of an installed storage plugin), or both; at most one backend (presign is not a backend)',
      },
    ],
  },
);

/** `storageConfig` as TypeScript: typed first-party backends plus plugin keys. */
export type StorageConfig = Static<typeof storageConfigSchema>;
export type S3StorageConfig = Static<typeof s3Schema>;
export type AzureBlobStorageConfig = Static<typeof azureBlobSchema>;
export type GcsStorageConfig = Static<typeof gcsSchema>;
export type FilesystemStorageConfig = Static<typeof filesystemSchema>;
export type PresignConfig = Static<typeof presignSchema>;

/** The one backend a `storageConfig` selects: its key and its config object. */
export interface SelectedStorageBackend {
  /** `s3`, `azureBlob`, `gcs`, `filesystem`, or the name of a storage plugin. */
  key: string;
  config: Record<string, unknown>;
  /** Whether `key` is one of {@link FIRST_PARTY_STORAGE_KEYS}. */
  firstParty: boolean;
}

/**
 * Picks the backend of a `storageConfig` (every key but `presign`). The API server already
 * insists on exactly one; this re-checks, because configs also come from Helm values and merges.
 */
export function selectStorageBackend(config: StorageConfig): SelectedStorageBackend {
  const keys = Object.keys(config).filter((k) => k !== 'presign' && k !== 'profile' && config[k] !== undefined);
  if (keys.length !== 1) {
    throw new Error(`storageConfig must name exactly one storage backend, found ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  }
  const key = keys[0]!;
  const value = config[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`storageConfig.${key} must be an object`);
  }
  return { key, config: value as Record<string, unknown>, firstParty: (FIRST_PARTY_STORAGE_KEYS as readonly string[]).includes(key) };
}
