/**
 * Where the plugin sends credentials (shared-key signatures, SAS tokens, Entra bearer tokens):
 * only to Azure's blob service hosts, public and sovereign clouds, over https, or to hosts the
 * platform listed in `allowedEndpointHosts`. Any other `accountUrl` is refused before a Secret
 * is read or a token requested. The SDK follows no cross-origin redirect and drops the
 * Authorization header on the ones it follows.
 */
import { InputError, hostAllowed } from '@opendepot/sdk';

/** Blob service domains of Azure's clouds (public, China, US Government, Germany) and DNS-zone endpoints. */
export const AZURE_BLOB_DOMAINS = ['.blob.core.windows.net', '.blob.core.chinacloudapi.cn', '.blob.core.usgovcloudapi.net', '.blob.core.cloudapi.de', '.blob.storage.azure.net'] as const;

/** Whether `hostname` is an Azure blob service host. */
export function isAzureBlobHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return AZURE_BLOB_DOMAINS.some((domain) => host.endsWith(domain) && host.length > domain.length);
}

/** Refuses an `accountUrl` that is neither an https Azure blob host nor allowed; the error's field is `accountUrl`. */
export function checkAccountUrl(accountUrl: string, allowed: readonly string[], configPath: string): URL {
  let url: URL;
  try {
    url = new URL(accountUrl);
  } catch (err) {
    throw new InputError(`${configPath}.accountUrl ${JSON.stringify(accountUrl)} is not a URL`, { field: 'accountUrl', cause: err });
  }
  if ((url.protocol === 'https:' && isAzureBlobHost(url.hostname)) || hostAllowed(url, allowed)) return url;
  throw new InputError(
    `${configPath}.accountUrl: Azure credentials are sent only to Azure blob service hosts (${AZURE_BLOB_DOMAINS.map((d) => `*${d}`).join(', ')}) over https, or to hosts in allowedEndpointHosts, and ${url.host} is neither`,
    {
      field: 'accountUrl',
      hint: `If ${url.host} is your blob endpoint (a custom domain, a private endpoint or an emulator), the platform adds it to allowedEndpointHosts of the storage profile (Helm values: storage.profiles.<name>.azureBlob.allowedEndpointHosts).`,
    },
  );
}
