/**
 * OpenPGP signing keys for tests and the quickstart: RSA 4096, v4 (the keys every tofu and
 * terraform version reads), and binary detached signatures as upstreams publish them. Generating
 * an RSA 4096 key takes seconds, so keys are cached on disk by (name, bits).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessage, generateKey, readPrivateKey, sign } from 'openpgp';
import { toolsDir } from './tools.ts';

/** A signing key pair. */
export interface SigningKey {
  privateKeyArmored: string;
  publicKeyArmored: string;
  /** Primary key ID, 16 upper-case hex digits. */
  keyId: string;
  /** Primary key fingerprint, 40 upper-case hex digits. */
  fingerprint: string;
}

/** Options of {@link createSigningKey}. */
export interface SigningKeyOptions {
  /** User ID name; also the cache key with `rsaBits`. Default `OpenDepot Test`. */
  name?: string;
  email?: string;
  /** Default 4096. */
  rsaBits?: number;
}

/** The cache directory of generated keys. */
export function keysDir(): string {
  return join(toolsDir(), 'keys');
}

/** A key pair for `name` and `rsaBits`: from the cache, else generated (unprotected, no expiry) and cached. */
export async function createSigningKey(options: SigningKeyOptions = {}): Promise<SigningKey> {
  const name = options.name ?? 'OpenDepot Test';
  const email = options.email ?? 'signing@opendepot.test';
  const rsaBits = options.rsaBits ?? 4096;
  const slug = createHash('sha256').update(`${name}\n${email}\n${rsaBits}`).digest('hex').slice(0, 16);
  const path = join(keysDir(), `${name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40)}-${rsaBits}-${slug}.asc`);
  const cached = await readFile(path, 'utf8').catch(() => undefined);
  if (cached !== undefined) {
    try {
      return await describe(cached);
    } catch {
      // A damaged cache entry is regenerated below.
    }
  }
  const generated = await generateKey({ type: 'rsa', rsaBits, userIDs: [{ name, email }], format: 'armored' });
  await mkdir(keysDir(), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, generated.privateKey, { mode: 0o600 });
  await rename(temporary, path); // atomic: concurrent test files may race to create the same key
  return describe(generated.privateKey);
}

/** A binary detached signature of `data` (what `gpg --detach-sign` writes, and what tofu requires). */
export async function signDetached(data: Uint8Array, privateKeyArmored: string): Promise<Uint8Array> {
  const signingKeys = await readPrivateKey({ armoredKey: privateKeyArmored });
  return sign({ message: await createMessage({ binary: data }), signingKeys, detached: true, format: 'binary' });
}

async function describe(privateKeyArmored: string): Promise<SigningKey> {
  const key = await readPrivateKey({ armoredKey: privateKeyArmored });
  const publicKeyArmored = key.toPublic().armor();
  return {
    privateKeyArmored,
    publicKeyArmored,
    keyId: key.getKeyID().toHex().toUpperCase(),
    fingerprint: key.getFingerprint().toUpperCase(),
  };
}
