/**
 * SAS URLs for pre-signed downloads: read permission on one blob, until the TTL ends. Signed
 * with the account key (a service SAS) or with a user delegation key fetched with the Entra
 * ID credential (a user delegation SAS). A SAS token credential cannot sign anything.
 */
import { BlobSASPermissions, generateBlobSASQueryParameters, SASProtocol, StorageSharedKeyCredential, type BlobServiceClient, type UserDelegationKey } from '@azure/storage-blob';
import { InputError } from '@opendepot/sdk';

/** Azure's limit on a user delegation key's validity. */
const MAX_DELEGATION_KEY_MS = 7 * 24 * 3600_000;
/** How long a fetched user delegation key is asked to stay valid. */
const DELEGATION_KEY_MS = 24 * 3600_000;
/** A key is replaced when less than the URL's TTL plus this is left. */
const DELEGATION_KEY_MARGIN_MS = 5 * 60_000;
/** Starts of delegation keys are backdated this much, against clock skew. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** What to sign. */
export interface SasRequest {
  container: string;
  blobName: string;
  /** The blob's URL, to which the SAS is appended. */
  blobUrl: string;
  ttlSeconds: number;
  filename?: string | undefined;
  /** Now, in milliseconds since the epoch. */
  now: number;
}

/** Makes SAS URLs for one account. */
export interface SasSigner {
  sign(request: SasRequest): Promise<{ url: string; expiresAt: Date }>;
}

/** Checks a TTL in seconds. */
export function checkTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new InputError(`a pre-signed URL's TTL must be a positive whole number of seconds, got ${ttlSeconds}`, { field: 'ttlSeconds' });
  }
}

/** The SAS fields common to both kinds of signature. */
function sasValues(request: SasRequest, expiresOn: Date) {
  return {
    containerName: request.container,
    blobName: request.blobName,
    permissions: BlobSASPermissions.parse('r'),
    expiresOn,
    ...(request.blobUrl.startsWith('https:') && { protocol: SASProtocol.Https }),
    ...(request.filename !== undefined && { contentDisposition: `attachment; filename="${safeFilename(request.filename)}"` }),
  };
}

/** SAS times have whole seconds: the expiry reported is the one signed. */
function expiryOf(request: SasRequest): Date {
  return new Date(Math.floor((request.now + request.ttlSeconds * 1000) / 1000) * 1000);
}

function withSas(blobUrl: string, sas: string): string {
  return `${blobUrl}${blobUrl.includes('?') ? '&' : '?'}${sas}`;
}

/** A signer using the account key (service SAS). */
export function sharedKeySigner(accountName: string, accountKey: string): SasSigner {
  const credential = new StorageSharedKeyCredential(accountName, accountKey);
  return {
    async sign(request) {
      checkTtl(request.ttlSeconds);
      const expiresAt = expiryOf(request);
      const sas = generateBlobSASQueryParameters(sasValues(request, expiresAt), credential).toString();
      return { url: withSas(request.blobUrl, sas), expiresAt };
    },
  };
}

/**
 * A signer using user delegation keys (user delegation SAS), fetched with the service
 * client's Entra ID credential and reused until too little of their validity is left. The
 * identity needs `generateUserDelegationKey` (e.g. the Storage Blob Delegator role).
 */
export function userDelegationSigner(accountName: string, service: BlobServiceClient): SasSigner {
  let cached: { key: Promise<UserDelegationKey>; expiresAt: number } | undefined;
  const keyFor = (now: number, neededUntil: number): Promise<UserDelegationKey> => {
    if (cached === undefined || cached.expiresAt - DELEGATION_KEY_MARGIN_MS < neededUntil) {
      const expiresAt = Math.min(now + MAX_DELEGATION_KEY_MS - CLOCK_SKEW_MS, Math.max(now + DELEGATION_KEY_MS, neededUntil + DELEGATION_KEY_MARGIN_MS));
      const key = service.getUserDelegationKey(new Date(now - CLOCK_SKEW_MS), new Date(expiresAt)).then((response) => response as UserDelegationKey);
      const entry = { key, expiresAt };
      cached = entry;
      // A failure is not remembered: the next URL asks again.
      key.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.key;
  };
  return {
    async sign(request) {
      checkTtl(request.ttlSeconds);
      const expiresAt = expiryOf(request);
      if (expiresAt.getTime() > request.now + MAX_DELEGATION_KEY_MS - CLOCK_SKEW_MS) {
        throw new InputError(`a user delegation SAS can be valid for at most 7 days, not ${request.ttlSeconds} s`, { field: 'ttlSeconds' });
      }
      const key = await keyFor(request.now, expiresAt.getTime());
      const sas = generateBlobSASQueryParameters(sasValues(request, expiresAt), key, accountName).toString();
      return { url: withSas(request.blobUrl, sas), expiresAt };
    },
  };
}

/** A printable-ASCII file name that cannot break out of the quoted `Content-Disposition` parameter. */
function safeFilename(name: string): string {
  return name.replace(/[^\u0020-\u007e]|["\\]/g, '_');
}
