/**
 * The signing key from `server.gpg` files: armored and binary keys, passphrases, the errors a
 * misconfigured Secret gives (naming the file, never the key or passphrase), and the config schema.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@opendepot/core';
import { createSigningKey } from '@opendepot/testbed';
import { createMessage, encryptKey, generateKey, readKey, readPrivateKey, readSignature, verify } from 'openpgp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSigningKey } from '../src/index.ts';

let dir: string;
let armored: string;
let keyId: string;
const PASSPHRASE = 'correct horse battery staple';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-gpg-'));
  const key = await createSigningKey({ name: 'OpenDepot Server Test' });
  armored = key.privateKeyArmored;
  keyId = key.keyId;
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: Error) => err,
  );
}

async function assertSigns(key: Awaited<ReturnType<typeof loadSigningKey>>): Promise<void> {
  const data = Buffer.from('abc  terraform-provider-x_1.0.0_linux_amd64.zip\n');
  const signature = await key.sign(data);
  const result = await verify({
    message: await createMessage({ binary: data }),
    signature: await readSignature({ binarySignature: signature }),
    verificationKeys: await readKey({ armoredKey: key.armoredPublicKey }),
  });
  await result.signatures[0]!.verified;
}

test('an armored unencrypted key loads: key ID (16 upper-case hex), public armor, and it signs', async () => {
  const key = await loadSigningKey({ privateKeyFile: await file('plain.asc', armored) });
  assert.is(key.keyId, keyId);
  assert.match(key.keyId, /^[0-9A-F]{16}$/);
  assert.match(key.armoredPublicKey, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  assert.not.match(key.armoredPublicKey, 'PRIVATE');
  await assertSigns(key);
});

test('a binary key loads too', async () => {
  const binary = (await readPrivateKey({ armoredKey: armored })).write();
  const key = await loadSigningKey({ privateKeyFile: await file('plain.gpg', binary) });
  assert.is(key.keyId, keyId);
  await assertSigns(key);
});

test('an encrypted key is decrypted with the passphrase file (its trailing newline ignored)', async () => {
  const encrypted = (await encryptKey({ privateKey: await readPrivateKey({ armoredKey: armored }), passphrase: PASSPHRASE })).armor();
  const privateKeyFile = await file('encrypted.asc', encrypted);
  const key = await loadSigningKey({ privateKeyFile, passphraseFile: await file('passphrase', `${PASSPHRASE}\n`) });
  assert.is(key.keyId, keyId);
  await assertSigns(key);

  const missing = await rejection(loadSigningKey({ privateKeyFile }));
  assert.match(missing.message, 'is encrypted and no passphrase is configured: set server.gpg.passphraseFile');
  const wrong = await rejection(loadSigningKey({ privateKeyFile, passphraseFile: await file('wrong', 'not it') }));
  assert.match(wrong.message, `${privateKeyFile} cannot be decrypted with the configured passphrase`);
  for (const err of [missing, wrong]) {
    assert.not.match(err.message, 'not it');
    assert.not.match(err.message, PASSPHRASE);
    assert.not.match(err.message, 'BEGIN PGP');
  }
});

test('files that are missing or not keys, and keys clients cannot use, stop start-up with a clear message', async () => {
  const absent = await rejection(loadSigningKey({ privateKeyFile: join(dir, 'absent.asc') }));
  assert.match(absent.message, `cannot read server.gpg.privateKeyFile ${join(dir, 'absent.asc')}: ENOENT`);
  const notAKey = await rejection(loadSigningKey({ privateKeyFile: await file('garbage.asc', 'hello world') }));
  assert.match(notAKey.message, 'is not an OpenPGP private key');
  const publicOnly = await rejection(loadSigningKey({ privateKeyFile: await file('public.asc', (await readPrivateKey({ armoredKey: armored })).toPublic().armor()) }));
  assert.match(publicOnly.message, 'is not an OpenPGP private key');
  const v6 = await generateKey({ type: 'curve25519', userIDs: [{ name: 'v6' }], format: 'armored', config: { v6Keys: true } });
  const v6Error = await rejection(loadSigningKey({ privateKeyFile: await file('v6.asc', v6.privateKey) }));
  assert.match(v6Error.message, 'is an OpenPGP v6 key; tofu and terraform read v4 keys only');
  const expired = await generateKey({ type: 'ecc', userIDs: [{ name: 'old' }], format: 'armored', date: new Date(Date.now() - 86_400_000), keyExpirationTime: 60 });
  const expiredError = await rejection(loadSigningKey({ privateKeyFile: await file('expired.asc', expired.privateKey) }));
  assert.match(expiredError.message, 'cannot make signatures');
});

test('server.gpg is part of the host config schema: privateKeyFile is required, unknown keys are warned about', () => {
  const { config } = parseConfig('server:\n  gpg:\n    privateKeyFile: /etc/opendepot/gpg/private.asc\n    passphraseFile: /etc/opendepot/gpg/passphrase\n', { env: {} });
  assert.equal(config.server.gpg, { privateKeyFile: '/etc/opendepot/gpg/private.asc', passphraseFile: '/etc/opendepot/gpg/passphrase' });
  assert.throws(() => parseConfig('server:\n  gpg:\n    passphraseFile: /x\n', { env: {} }), /server\.gpg.*privateKeyFile/);
  const { warnings } = parseConfig('server:\n  gpg:\n    privateKeyFile: /x\n    secretName: opendepot-gpg\n', { env: {} });
  assert.ok(
    warnings.some((w) => w.includes('secretName')),
    warnings.join('\n'),
  );
});

test.run();
