/** Reads the service account key a config references, without ever echoing its content. */
import { InputError, type PluginContext } from '@opendepot/sdk';
import { CREDENTIALS_SECRET_KEY, type GcsStorageConfig } from './config.ts';

/** The fields of a service account key the plugin uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
}

/**
 * Checks the text of a `credentials.json`: a service account key with `client_email` and
 * `private_key`. Other credential types are refused: an external-account configuration can
 * make the auth library fetch URLs or run programs it names, and only service account keys
 * sign URLs locally. Messages name fields, never values.
 */
export function parseCredentials(text: string, where: string): ServiceAccountKey {
  const hint = 'Store the service account key file (type service_account) exactly as Google issued it.';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(`${where} is not JSON`, { hint });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InputError(`${where} is not a JSON object`, { hint });
  const key = parsed as Record<string, unknown>;
  if (key.type !== undefined && key.type !== 'service_account') {
    throw new InputError(`${where} holds credentials of type ${JSON.stringify(String(key.type))}; only service account keys are supported`, {
      hint: `${hint} For workload identity, leave credentialsSecretRef unset.`,
    });
  }
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof key[field] !== 'string' || key[field] === '') throw new InputError(`${where} has no ${field}`, { hint });
  }
  return {
    client_email: key.client_email as string,
    private_key: key.private_key as string,
    ...(typeof key.private_key_id === 'string' && { private_key_id: key.private_key_id }),
    ...(typeof key.project_id === 'string' && { project_id: key.project_id }),
  };
}

/**
 * The credentials of `config.credentialsSecretRef`, or `undefined` when none is referenced
 * (then the client uses the ambient chain: workload identity or the metadata server).
 */
export async function loadCredentials(config: GcsStorageConfig, context: PluginContext): Promise<ServiceAccountKey | undefined> {
  const ref = config.credentialsSecretRef;
  if (ref === undefined) return undefined;
  const where = `Secret ${ref.name}, key ${CREDENTIALS_SECRET_KEY}`;
  if (context.readSecret === undefined) {
    throw new InputError(`credentialsSecretRef is set, but this host cannot read Secrets`, {
      field: 'credentialsSecretRef',
      hint: 'Give the host read access to Secrets in its namespace, or leave credentialsSecretRef unset and use workload identity.',
    });
  }
  let text: string;
  try {
    text = await context.readSecret(ref.name, CREDENTIALS_SECRET_KEY);
  } catch (err) {
    throw new InputError(`cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`, {
      field: 'credentialsSecretRef.name',
      cause: err,
      hint: `Create the Secret ${ref.name} with key ${CREDENTIALS_SECRET_KEY} holding a service account key, in the namespace of the operator and the server.`,
    });
  }
  try {
    return parseCredentials(text, where);
  } catch (err) {
    throw new InputError((err as Error).message, { field: 'credentialsSecretRef.name', hint: (err as InputError).hint });
  }
}
