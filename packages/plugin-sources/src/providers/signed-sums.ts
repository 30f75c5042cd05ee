/** Downloading a release's SHA256SUMS and a detached signature of it, and verifying them. */
import { IntegrityError, UnavailableError, isOpenDepotError, type Logger } from '@opendepot/sdk';
import { redactUrl } from '../subject.ts';
import { MAX_SHASUMS_BYTES, MAX_SIGNATURE_BYTES, getSmall, type HttpPolicy } from './http.ts';
import { parseShasums } from './shasums.ts';
import { checkDetached, untrustedSigner, type TrustedKey, type VerifiedSignature } from './signature.ts';

/** Verified checksums of a release. */
export interface SignedSums {
  /** File name → lower-case hex SHA-256. */
  sums: Map<string, string>;
  /** The SHA256SUMS file's name, for messages. */
  name: string;
  signature: VerifiedSignature;
}

/** What to fetch and whom to trust. */
export interface SignedSumsRequest {
  shasumsUrl: URL;
  /** Candidate signatures, most promising first; the first that verifies wins. */
  signatureUrls: URL[];
  keys: readonly TrustedKey[];
  /** Where `keys` came from, for messages (e.g. `hashicorpTrustedKeys`). */
  keySource: string;
  policy: HttpPolicy;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Downloads SHA256SUMS and its signatures and returns the checksums once one signature by one
 * of `keys` verifies. Throws IntegrityError when a signature is bad or no signature is by a
 * trusted key, UnavailableError when the files cannot be had right now.
 */
export async function fetchSignedSums(request: SignedSumsRequest): Promise<SignedSums> {
  const { shasumsUrl, policy, signal } = request;
  const name = fileName(shasumsUrl);
  if (request.signatureUrls.length === 0) throw new IntegrityError(`the upstream publishes no signature of ${name}; an unsigned release is not stored`);
  const shasums = await getSmall(shasumsUrl, `downloading ${name}`, policy, MAX_SHASUMS_BYTES, signal).catch((err: unknown) => {
    throw missingAsUnavailable(err, `${name} is listed but ${redactUrl(shasumsUrl.toString())} answered 404`);
  });
  const issuers: string[] = [];
  const missing: string[] = [];
  for (const signatureUrl of request.signatureUrls) {
    let signature: Uint8Array;
    try {
      signature = (await getSmall(signatureUrl, `downloading the signature of ${name}`, policy, MAX_SIGNATURE_BYTES, signal)).body;
    } catch (err) {
      if (!isOpenDepotError(err, 'not_found')) throw err;
      missing.push(redactUrl(signatureUrl.toString()));
      continue;
    }
    const check = await checkDetached(shasums.body, signature, request.keys, { file: name, signatureUrl: redactUrl(signatureUrl.toString()) }, request.logger);
    if (check.verified) {
      return { sums: parseShasums(shasums.body, name), name, signature: { keyId: check.keyId, signerKeyId: check.signerKeyId } };
    }
    issuers.push(...check.issuers);
  }
  if (issuers.length > 0 || missing.length === 0) throw untrustedSigner(name, issuers, request.keys, request.keySource);
  throw new UnavailableError(`the signature of ${name} is listed but could not be downloaded (404 from ${missing.join(', ')})`);
}

/** The last path segment of `url`, decoded. */
export function fileName(url: URL): string {
  const last = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A 404 for a file the upstream listed is a publishing hiccup, worth retrying, not an unknown version. */
export function missingAsUnavailable(err: unknown, message: string): unknown {
  return isOpenDepotError(err, 'not_found') ? new UnavailableError(message, { cause: err }) : err;
}
