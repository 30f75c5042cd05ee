/**
 * The registry's OpenPGP signing key: read from the files of a mounted Secret, decrypted once,
 * and used to make the detached binary signatures over provider `SHA256SUMS` that tofu and
 * terraform verify. Key material never leaves this module except as the public key.
 */
import { readFile } from 'node:fs/promises';
import type { GpgConfig } from '@opendepot/core';
import { InputError } from '@opendepot/sdk';
import type { PrivateKey } from 'openpgp';

// openpgp is imported when a key is first read: a registry without a signing key never loads it
// (with markdown-it and openid-client, also loaded on first use, ~8.5 MB of resident memory at
// start; BENCHMARKS.md, cold start).

/** A key the registry signs with; what the download answers publish about it. */
export interface SigningKey {
  /** The primary key's 16-hex upper-case key ID, as clients print it after `signed, key ID`. */
  readonly keyId: string;
  /** The primary key's fingerprint (lower-case hex); identifies the key in caches and logs. */
  readonly fingerprint: string;
  /** The public key, ASCII-armored: `signing_keys.gpg_public_keys[].ascii_armor`. */
  readonly armoredPublicKey: string;
  /** A detached binary OpenPGP signature of exactly `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** What the clients read: Terraform 1.5 and every OpenTofu version read v4 keys. */
const CLIENT_KEY_VERSION = 4;

/**
 * Reads and decrypts the key `server.gpg` names. Fails with a message that names the file and
 * what is wrong (never the key or passphrase), so a misconfigured Secret stops start-up.
 */
export async function loadSigningKey(config: GpgConfig): Promise<SigningKey> {
  const keyBytes = await readConfigFile(config.privateKeyFile, 'server.gpg.privateKeyFile');
  // A Secret's passphrase file usually ends with a newline the passphrase does not have.
  const passphrase = config.passphraseFile === undefined ? undefined : (await readConfigFile(config.passphraseFile, 'server.gpg.passphraseFile')).toString('utf8').replace(/\r?\n$/, '');
  return signingKeyOf(keyBytes, { passphrase, source: config.privateKeyFile });
}

/**
 * Makes a {@link SigningKey} from a private key, ASCII-armored or binary, decrypting it with
 * `passphrase` when it is encrypted. `source` names the key in error messages.
 */
export async function signingKeyOf(key: string | Uint8Array, options: { passphrase?: string | undefined; source?: string } = {}): Promise<SigningKey> {
  const source = options.source ?? 'the signing key';
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  const { createMessage, decryptKey, readPrivateKey, sign } = await import('openpgp');
  let privateKey: PrivateKey;
  try {
    privateKey = isArmored(bytes) ? await readPrivateKey({ armoredKey: bytes.toString('utf8') }) : await readPrivateKey({ binaryKey: bytes });
  } catch (err) {
    throw new InputError(`${source} is not an OpenPGP private key (${describe(err)})`, { field: 'server.gpg.privateKeyFile' });
  }
  if (!privateKey.isDecrypted()) {
    if (options.passphrase === undefined) {
      throw new InputError(`${source} is encrypted and no passphrase is configured: set server.gpg.passphraseFile`, { field: 'server.gpg.passphraseFile' });
    }
    try {
      privateKey = await decryptKey({ privateKey, passphrase: options.passphrase });
    } catch (err) {
      throw new InputError(`${source} cannot be decrypted with the configured passphrase (${describe(err)})`, { field: 'server.gpg.passphraseFile' });
    }
  }
  try {
    // Throws when no key or subkey may sign now (expired, revoked, encryption-only).
    await privateKey.getSigningKey();
  } catch (err) {
    throw new InputError(`${source} cannot make signatures (${describe(err)})`, { field: 'server.gpg.privateKeyFile' });
  }
  if (privateKey.keyPacket.version !== CLIENT_KEY_VERSION) {
    throw new InputError(`${source} is an OpenPGP v${privateKey.keyPacket.version} key; tofu and terraform read v4 keys only (an RSA 4096 v4 key works with every version)`, {
      field: 'server.gpg.privateKeyFile',
    });
  }
  const signingKeys = privateKey;
  return {
    keyId: privateKey.getKeyID().toHex().toUpperCase(),
    fingerprint: privateKey.getFingerprint(),
    armoredPublicKey: privateKey.toPublic().armor(),
    async sign(data: Uint8Array): Promise<Uint8Array> {
      const message = await createMessage({ binary: data });
      return sign({ message, signingKeys, detached: true, format: 'binary' });
    },
  };
}

async function readConfigFile(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InputError(`cannot read ${field} ${path}: ${(err as NodeJS.ErrnoException).code ?? describe(err)}`, { field });
  }
}

function isArmored(bytes: Buffer): boolean {
  return bytes.subarray(0, 64).toString('latin1').trimStart().startsWith('-----BEGIN PGP');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
