/**
 * `@opendepot/plugin-azure`: OpenDepot storage in Azure Blob Storage, selected by
 * `storageConfig.azureBlob`.
 * @packageDocumentation
 */
import { definePlugin, PLUGIN_API_VERSION, type Logger } from '@opendepot/sdk';
import { configSchema, DEFAULT_CONTAINER, type AzureBlobStorageConfig } from './config.ts';
import { resolveAuth } from './credentials.ts';
import { checkAccountUrl } from './hosts.ts';
import { AzureBlobStorage } from './storage.ts';

export { AzureBlobStorage, type AzureBlobStorageOptions } from './storage.ts';
export { configSchema, DEFAULT_CONTAINER, SECRET_KEYS, type AzureBlobStorageConfig } from './config.ts';
export { AZURE_BLOB_DOMAINS, checkAccountUrl, isAzureBlobHost } from './hosts.ts';
export { parseConnectionString, resolveAuth, type AzureAuth, type ConnectionString, type ResolvedAuth } from './credentials.ts';

/** The plugin: `kind: storage`, `name: azureBlob`. */
export default definePlugin({
  kind: 'storage',
  name: 'azureBlob',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: AzureBlobStorageConfig, context) {
    // Before any Secret is read or token requested: credentials go only to Azure or allowed hosts.
    const url = checkAccountUrl(config.accountUrl, config.allowedEndpointHosts ?? [], context.configPath);
    warnOnAccountMismatch(url, config.accountName, context.logger);
    const { auth, source } = await resolveAuth(config, context);
    const container = config.container ?? DEFAULT_CONTAINER;
    const storage = new AzureBlobStorage({
      accountUrl: config.accountUrl,
      accountName: config.accountName,
      container,
      ...(config.allowedEndpointHosts !== undefined && { allowedEndpointHosts: config.allowedEndpointHosts }),
      auth,
      logger: context.logger,
      now: () => context.clock.now(),
    });
    context.logger.info('azure blob storage ready', {
      accountUrl: config.accountUrl,
      container,
      subscriptionID: config.subscriptionID,
      resourceGroup: config.resourceGroup,
      credentials: source,
      presign: storage.capabilities.presign,
    });
    return storage;
  },
});

/**
 * The account name signs requests and SAS URLs, so it should be the one the URL addresses:
 * `<account>.blob...` or, path-style (Azurite, some private endpoints), `/<account>`. Custom
 * domains are legitimate, hence a warning, not a refusal.
 */
function warnOnAccountMismatch(url: URL, accountName: string, logger: Logger): void {
  const firstSegment = url.pathname.split('/').find((s) => s !== '');
  if (url.hostname.startsWith(`${accountName}.`) || firstSegment === accountName) return;
  logger.warn('accountUrl does not name accountName; requests will be signed for accountName', { accountUrl: url.href, accountName });
}
