/**
 * Where the plugin's Azure credentials come from: a referenced Secret (connection string,
 * account key or service principal), or else workload identity / managed identity through
 * `DefaultAzureCredential`, which is only constructed when no Secret is referenced.
 */
import type { TokenCredential } from '@azure/identity';
import { InputError, type PluginContext } from '@opendepot/sdk';
import { SECRET_KEYS, type AzureBlobStorageConfig } from './config.ts';

/** How requests are authorised. Only `shared-key` and `token` can make pre-signed URLs. */
export type AzureAuth =
  /** The account key: signs requests and service SAS URLs. */
  | { kind: 'shared-key'; accountKey: string }
  /** A SAS token (from a connection string) appended to every request; cannot sign anything. */
  | { kind: 'sas'; sasToken: string }
  /** Microsoft Entra ID: bearer tokens, and user delegation SAS URLs. */
  | { kind: 'token'; credential: TokenCredential };

/** Credentials plus where they came from (for logs; never the values). */
export interface ResolvedAuth {
  auth: AzureAuth;
  source: string;
}

/** The fields of an Azure Storage connection string this plugin uses. */
export interface ConnectionString {
  accountName?: string;
  accountKey?: string;
  sasToken?: string;
  blobEndpoint?: string;
}

/** Parses `Key=Value;Key=Value` (values may contain `=`, as base64 keys do). */
export function parseConnectionString(text: string): ConnectionString {
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const get = (name: string) => fields.get(name.toLowerCase()) || undefined;
  const sas = get('SharedAccessSignature');
  return {
    ...(get('AccountName') && { accountName: get('AccountName') }),
    ...(get('AccountKey') && { accountKey: get('AccountKey') }),
    ...(sas && { sasToken: sas.startsWith('?') ? sas.slice(1) : sas }),
    ...(get('BlobEndpoint') && { blobEndpoint: get('BlobEndpoint') }),
  };
}

const FIELD = 'credentialsSecretRef';

/** Reads the referenced Secret, or falls back to workload identity; throws `InputError` for unusable Secrets. */
export async function resolveAuth(config: AzureBlobStorageConfig, context: Pick<PluginContext, 'readSecret'>): Promise<ResolvedAuth> {
  const ref = config.credentialsSecretRef;
  if (ref === undefined) {
    // Lazy import: the identity library is only loaded where it is used.
    const { DefaultAzureCredential } = await import('@azure/identity');
    return { auth: { kind: 'token', credential: new DefaultAzureCredential() }, source: 'workload identity (DefaultAzureCredential)' };
  }
  const { readSecret } = context;
  if (readSecret === undefined) {
    throw new InputError(`credentialsSecretRef names the Secret ${ref.name}, but this host cannot read Secrets`, {
      field: FIELD,
      hint: 'Run the operator and the server with access to Secrets of their namespace, or leave credentialsSecretRef unset to use workload identity.',
    });
  }
  const keys = Object.values(SECRET_KEYS);
  const read = await Promise.allSettled(keys.map((key) => readSecret(ref.name, key)));
  const values = new Map<string, string>();
  read.forEach((r, i) => {
    if (r.status === 'fulfilled' && r.value.trim() !== '') values.set(keys[i]!, r.value.trim());
  });
  const from = (key: string) => `Secret ${ref.name}, key ${key}`;

  const connection = values.get(SECRET_KEYS.connectionString);
  if (connection !== undefined) {
    const parsed = parseConnectionString(connection);
    if (parsed.accountName !== undefined && parsed.accountName !== config.accountName) {
      throw new InputError(`the connection string in Secret ${ref.name} is for account ${parsed.accountName}, not ${config.accountName}`, { field: FIELD });
    }
    if (parsed.accountKey !== undefined) return { auth: { kind: 'shared-key', accountKey: parsed.accountKey }, source: from(SECRET_KEYS.connectionString) };
    if (parsed.sasToken !== undefined) return { auth: { kind: 'sas', sasToken: parsed.sasToken }, source: from(SECRET_KEYS.connectionString) };
    throw new InputError(`the connection string in Secret ${ref.name} has neither AccountKey nor SharedAccessSignature`, { field: FIELD });
  }
  const accountKey = values.get(SECRET_KEYS.accountKey);
  if (accountKey !== undefined) return { auth: { kind: 'shared-key', accountKey }, source: from(SECRET_KEYS.accountKey) };

  const clientId = values.get(SECRET_KEYS.clientId);
  const tenantId = values.get(SECRET_KEYS.tenantId);
  const clientSecret = values.get(SECRET_KEYS.clientSecret);
  if (clientId !== undefined && tenantId !== undefined && clientSecret !== undefined) {
    const { ClientSecretCredential } = await import('@azure/identity');
    return { auth: { kind: 'token', credential: new ClientSecretCredential(tenantId, clientId, clientSecret) }, source: `Secret ${ref.name} (service principal ${clientId})` };
  }

  const failed = read.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const reason = failed === undefined ? '' : `; reading it failed with: ${failed.reason instanceof Error ? failed.reason.message : String(failed.reason)}`;
  throw new InputError(
    `Secret ${ref.name} has no usable Azure credentials: it needs ${SECRET_KEYS.connectionString}, or ${SECRET_KEYS.accountKey}, or all of ${SECRET_KEYS.clientId}, ${SECRET_KEYS.tenantId} and ${SECRET_KEYS.clientSecret}${reason}`,
    { field: FIELD, cause: failed?.reason },
  );
}
