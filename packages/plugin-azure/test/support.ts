/**
 * What the plugin's tests share: Azurite over HTTPS with a test CA this process trusts, a
 * container per test file, and plugin contexts whose Secrets are plain maps. Credentials are
 * always explicit, so no test ever looks for a managed identity.
 */
import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { Logger, PluginContext } from '@opendepot/sdk';
import { createTestCertificates, startAzurite, trustCaInProcess, type Azurite } from '@opendepot/testbed';
import type { AzureBlobStorageConfig } from '../src/index.ts';

/** A subscription ID of the right shape; data access never uses it. */
export const SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000000';

/** A logger that remembers what it was told, so tests can check nothing secret is logged. */
export function recordingLogger(lines: string[] = []): Logger {
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'), child: () => logger };
  return logger;
}

/** A plugin context as the host passes it, with Secrets from `secrets` (name → key → value). */
export function pluginContext(secrets: Record<string, Record<string, string>> = {}, logger: Logger = recordingLogger()): PluginContext {
  return {
    logger,
    signal: new AbortController().signal,
    clock: { now: () => Date.now() },
    configPath: 'storageConfig.azureBlob',
    async readSecret(name, key) {
      const value = secrets[name]?.[key];
      if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
      return value;
    },
  };
}

/** Azurite with a fresh container, and the config that selects it. */
export interface AzureTestEnv {
  azurite: Azurite;
  caPem: string;
  /** Admin access to the container (the account key). */
  container: ContainerClient;
  config(overrides?: Partial<AzureBlobStorageConfig>): AzureBlobStorageConfig;
  stop(): Promise<void>;
}

/** Starts Azurite over HTTPS, trusts its CA in this process and creates a container. */
export async function startAzureTestEnv(options: { oauth?: boolean } = {}): Promise<AzureTestEnv> {
  const certs = await createTestCertificates();
  trustCaInProcess(certs.caPem);
  const azurite = await startAzurite({ tls: certs, ...(options.oauth && { oauth: true }) });
  const service = new BlobServiceClient(azurite.accountUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const name = `test-${randomBytes(4).toString('hex')}`;
  const container = service.getContainerClient(name);
  await container.create();
  return {
    azurite,
    caPem: certs.caPem,
    container,
    config: (overrides = {}) => ({
      accountName: azurite.accountName,
      accountUrl: azurite.accountUrl,
      subscriptionID: SUBSCRIPTION_ID,
      resourceGroup: 'opendepot-tests',
      container: name,
      credentialsSecretRef: { name: 'azure-storage' },
      // The platform names Azurite's host; nothing else gets the credentials.
      allowedEndpointHosts: [new URL(azurite.accountUrl).hostname],
      ...overrides,
    }),
    stop: () => azurite.stop(),
  };
}

/** Deletes every blob in `container`. */
export async function emptyContainer(container: ContainerClient): Promise<void> {
  for await (const blob of container.listBlobsFlat()) await container.deleteBlob(blob.name, { deleteSnapshots: 'include' });
}
