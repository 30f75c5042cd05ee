/** Where the S3 client's credentials come from: a referenced Secret, or the standard AWS chain. */
import { InputError, UnauthenticatedError, type PluginContext } from '@opendepot/sdk';
import { SECRET_KEYS, type S3CredentialsSecretRef } from './config.ts';

/** Credentials as the AWS SDK takes them (its `AwsCredentialIdentity`). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the SDK must ask the provider again. */
  expiration?: Date;
}

/** A source of credentials the AWS SDK calls when it needs them (its `AwsCredentialIdentityProvider`). */
export type S3CredentialsProvider = () => Promise<S3Credentials>;

/** How long credentials read from a Secret are used before the Secret is read again (rotation). */
export const SECRET_REFRESH_MS = 5 * 60 * 1000;
/** The SDK asks again this long before `expiration` (smithy's memoizeIdentityProvider). */
const SDK_REFRESH_WINDOW_MS = 5 * 60 * 1000;

/**
 * A credential provider that reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
 * `AWS_SESSION_TOKEN` from the Secret through the host's `readSecret`. The SDK caches what it
 * returns until `expiration`, so a rotated Secret is picked up within {@link SECRET_REFRESH_MS}.
 * Throws an `InputError` at once when the host cannot read Secrets.
 */
export function secretCredentials(ref: S3CredentialsSecretRef, context: Pick<PluginContext, 'readSecret' | 'configPath'>): S3CredentialsProvider {
  const readSecret = context.readSecret;
  if (readSecret === undefined) {
    throw new InputError(`${context.configPath}.credentialsSecretRef is set, but this host cannot read Secrets`, {
      field: 'credentialsSecretRef',
      hint: 'Remove credentialsSecretRef to use the standard AWS credential chain (environment, IRSA web identity, instance profile), or run the plugin in a host that can read Secrets.',
    });
  }
  return async (): Promise<S3Credentials> => {
    const read = async (key: string): Promise<string> => (await readSecret(ref.name, key)).trim();
    let accessKeyId: string;
    let secretAccessKey: string;
    try {
      [accessKeyId, secretAccessKey] = await Promise.all([read(SECRET_KEYS.accessKeyId), read(SECRET_KEYS.secretAccessKey)]);
    } catch (err) {
      // The reader's message names the Secret and key, never a value.
      throw new UnauthenticatedError(`cannot read the S3 credentials from Secret ${ref.name}: ${(err as Error).message}`, {
        cause: err,
        hint: `Create the Secret ${ref.name} in the host's namespace with keys ${SECRET_KEYS.accessKeyId} and ${SECRET_KEYS.secretAccessKey}.`,
      });
    }
    if (accessKeyId === '' || secretAccessKey === '') {
      throw new UnauthenticatedError(`Secret ${ref.name} has an empty ${accessKeyId === '' ? SECRET_KEYS.accessKeyId : SECRET_KEYS.secretAccessKey}`);
    }
    // Optional: a missing key means long-lived credentials.
    const sessionToken = await read(SECRET_KEYS.sessionToken).catch(() => '');
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken !== '' && { sessionToken }),
      // The SDK's clock, and its window added: without it the credentials would look expired
      // at once and the Secret would be read for every request.
      expiration: new Date(Date.now() + SECRET_REFRESH_MS + SDK_REFRESH_WINDOW_MS),
    };
  };
}
