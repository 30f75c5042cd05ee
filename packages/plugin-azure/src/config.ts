/** The plugin's configuration (`storageConfig.azureBlob`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** The container used when the config names none. */
export const DEFAULT_CONTAINER = 'opendepot';

/** The Secret keys the plugin reads from `credentialsSecretRef`, in the order it tries them. */
export const SECRET_KEYS = {
  connectionString: 'AZURE_STORAGE_CONNECTION_STRING',
  accountKey: 'AZURE_STORAGE_ACCOUNT_KEY',
  clientId: 'AZURE_CLIENT_ID',
  tenantId: 'AZURE_TENANT_ID',
  clientSecret: 'AZURE_CLIENT_SECRET',
} as const;

/** Configuration of the Azure Blob storage backend: the CRD's `storageConfig.azureBlob`. */
export interface AzureBlobStorageConfig {
  /** Storage account name. */
  accountName: string;
  /** Blob service URL of the account (https). */
  accountUrl: string;
  /** Subscription holding the account; recorded for operators, not used for data access. */
  subscriptionID: string;
  /** Resource group holding the account; recorded for operators, not used for data access. */
  resourceGroup: string;
  /** Container the objects are stored in. Default {@link DEFAULT_CONTAINER}. */
  container?: string;
  /** Secret with credentials; unset means workload identity or managed identity. */
  credentialsSecretRef?: { name: string };
  /**
   * Hosts besides Azure's blob service hosts that `accountUrl` may name (a host name, `host:port`
   * or `*.suffix`): credentials go nowhere else. Set by the platform in a storage profile.
   */
  allowedEndpointHosts?: string[];
}

/**
 * JSON Schema (draft-07) of {@link AzureBlobStorageConfig}: the same fields and patterns as the
 * CRD's `azureBlob` block, so every manifest the API server accepts is accepted here.
 */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'azureBlob storage',
  description: 'Stores objects as block blobs in one container of an Azure Storage account; downloads can be redirected to SAS URLs.',
  type: 'object',
  additionalProperties: false,
  required: ['accountName', 'accountUrl', 'subscriptionID', 'resourceGroup'],
  properties: {
    accountName: {
      type: 'string',
      description: 'Storage account name (3-24 lowercase letters and digits). Signs shared-key requests and SAS URLs.',
      pattern: '^[a-z0-9]{3,24}$',
    },
    accountUrl: {
      type: 'string',
      description: 'Blob service URL of the account, e.g. https://opendepotmodules.blob.core.windows.net. Must be https.',
      pattern: '^https://\\S+$',
      maxLength: 2048,
    },
    subscriptionID: {
      type: 'string',
      description: 'Azure subscription (a GUID) that holds the account. Recorded in logs; data access does not need it.',
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
    },
    resourceGroup: {
      type: 'string',
      description: 'Resource group that holds the account. Recorded in logs; data access does not need it.',
      minLength: 1,
      maxLength: 90,
    },
    container: {
      type: 'string',
      description: `Blob container the objects are stored in; it must exist. Default: ${DEFAULT_CONTAINER}.`,
      pattern: '^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$',
      default: DEFAULT_CONTAINER,
    },
    credentialsSecretRef: {
      type: 'object',
      description:
        `Secret (read by the operator and the server in their namespace) with ${SECRET_KEYS.connectionString}, or ${SECRET_KEYS.accountKey} (shared key), or ` +
        `${SECRET_KEYS.clientId}, ${SECRET_KEYS.tenantId} and ${SECRET_KEYS.clientSecret} (a service principal). ` +
        'Unset means workload identity or managed identity (DefaultAzureCredential).',
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
        "Hosts accountUrl may name besides Azure blob service hosts (*.blob.core.windows.net and the sovereign clouds' blob hosts, https only): a host name (any port), host:port, or *.suffix, e.g. a custom domain, private endpoint or emulator. Credentials go nowhere else; set by the platform in a storage profile, never by resources. Default: none.",
      items: { type: 'string', minLength: 1, maxLength: 253 },
    },
  },
};
