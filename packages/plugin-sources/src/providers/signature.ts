/**
 * Detached OpenPGP signatures over SHA256SUMS, checked as tofu and terraform check them: a binary
 * signature, verified by any one of the upstream's keys; a key that did not issue it is skipped.
 */
import { IntegrityError, InputError, type Logger } from '@opendepot/sdk';
import { createMessage, readKey, readSignature, verify, type Key, type Signature } from 'openpgp';

/** A public key the source trusts, with the IDs messages name it by. */
export interface TrustedKey {
  key: Key;
  /** Primary key ID, 16 upper-case hex digits (what `tofu` prints). */
  keyId: string;
  /** Key IDs of the primary key and every subkey, upper case. */
  keyIds: string[];
}

/** What a good signature was made with. */
export interface VerifiedSignature {
  /** Primary key ID of the key that verified. */
  keyId: string;
  /** Key ID of the (sub)key that made the signature. */
  signerKeyId: string;
}

/** Reads ASCII-armored public keys; `where` names their origin for messages (a config key, a registry response). */
export async function readTrustedKeys(armored: readonly string[], where: string, onBadKey: 'input' | 'integrity' = 'input'): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const [index, text] of armored.entries()) {
    let key: Key;
    try {
      key = await readKey({ armoredKey: text });
    } catch (err) {
      const message = `${where}[${index}] is not an ASCII-armored OpenPGP public key: ${(err as Error).message}`;
      throw onBadKey === 'input' ? new InputError(message, { cause: err }) : new IntegrityError(message, { cause: err });
    }
    if (key.isPrivate()) throw new InputError(`${where}[${index}] is a private key; give the public key only`);
    keys.push({ key, keyId: hexId(key.getKeyID().toHex()), keyIds: key.getKeyIDs().map((id) => hexId(id.toHex())) });
  }
  return keys;
}

/** The outcome of {@link checkDetached}: verified, or signed by none of the keys (a bad signature throws). */
export type SignatureCheck = ({ verified: true } & VerifiedSignature) | { verified: false; issuers: string[] };

/**
 * Checks the binary detached `signatureBytes` over `data` against `keys`. A signature by a key
 * not among `keys` is reported (the caller may try another signature); an unreadable signature,
 * or one by a listed key that does not verify, throws IntegrityError naming the file and key.
 */
export async function checkDetached(data: Uint8Array, signatureBytes: Uint8Array, keys: readonly TrustedKey[], what: { file: string; signatureUrl: string }, logger?: Logger): Promise<SignatureCheck> {
  let signature: Signature;
  try {
    signature = await readSignature({ binarySignature: signatureBytes });
  } catch (err) {
    throw new IntegrityError(`the signature of ${what.file} at ${what.signatureUrl} is not a binary OpenPGP signature: ${(err as Error).message}`, { cause: err });
  }
  const issuers = signature.getSigningKeyIDs().map((id) => hexId(id.toHex()));
  const signer = keys.find((k) => k.keyIds.some((id) => issuers.includes(id)));
  if (!signer) return { verified: false, issuers };
  // openpgp judges the key at the signing time, as the clients do: a key that has expired since
  // still verifies a signature made while it was valid (a warning is logged below).
  const result = await verify({ message: await createMessage({ binary: data }), signature, verificationKeys: signer.key });
  const mine = result.signatures.find((s) => signer.keyIds.includes(hexId(s.keyID.toHex())));
  try {
    if (!mine) throw new Error('no signature packet names the key');
    await mine.verified;
  } catch (err) {
    throw new IntegrityError(`the signature of ${what.file} (${what.signatureUrl}) by key ${signer.keyId} does not verify: ${(err as Error).message}`, { cause: err });
  }
  const expires = await signer.key.getExpirationTime().catch(() => null);
  if (expires instanceof Date && expires.getTime() < Date.now()) {
    logger?.warn('the key that signed the upstream checksums has expired since', { file: what.file, key_id: signer.keyId, expired: expires.toISOString() });
  }
  return { verified: true, keyId: signer.keyId, signerKeyId: hexId(mine.keyID.toHex()) };
}

/** The IntegrityError for a file signed only by keys outside `keys`. */
export function untrustedSigner(file: string, issuers: readonly string[], keys: readonly TrustedKey[], keySource: string): IntegrityError {
  const trusted = keys.map((k) => k.keyId).join(', ') || 'none';
  return new IntegrityError(`${file} is signed by key ${[...new Set(issuers)].join(', ') || '(no issuer named)'}, which is not among the keys from ${keySource} (${trusted})`);
}

function hexId(hex: string): string {
  return hex.toUpperCase().padStart(16, '0');
}
