// The hashicorp-releases provider source against the HashiCorp Releases API stand-in (loopback only).
import { generateKey, readPrivateKey } from 'openpgp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ArchiveSource } from '@opendepot/sdk';
import { createSigningKey, startHashicorpReleasesStandin, type HashicorpReleasesStandin, type SigningKey } from '@opendepot/testbed';
import { providerArchiveSubject } from '@opendepot/archive-kit';
import type { ProviderSourceOptions } from '../src/providers/index.ts';
import { createProviderSource, memoryLogger, readBody, rejectsWith, sha256 } from './provider-sources-helpers.ts';

const PRODUCT = 'terraform-provider-hello';
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
];
const subject = providerArchiveSubject({ name: 'hello' });

let key: SigningKey;
let stranger: SigningKey;
let standin: HashicorpReleasesStandin;
let source: ArchiveSource;
const stable: string[] = [];

const sourceWith = (options: ProviderSourceOptions = {}) =>
  createProviderSource('hashicorp-releases', {
    hashicorpReleasesUrl: standin.url,
    hashicorpTrustedKeys: [key.publicKeyArmored],
    allowInsecureHttp: true,
    egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] },
    ...options,
  });
const requestsSince = (mark: number) => standin.requests.slice(mark).map((r) => r.url);

test.before(async () => {
  [key, stranger] = await Promise.all([createSigningKey({ name: 'HashiCorp stand-in' }), createSigningKey({ name: 'Untrusted signer' })]);
  standin = await startHashicorpReleasesStandin({ signingKey: key });
  // 24 stable releases (more than one page of 20), a pre-release, a withdrawn one, an enterprise build.
  for (let minor = 0; minor < 24; minor++) {
    const version = `1.${minor}.0`;
    stable.push(version);
    await standin.addRelease(PRODUCT, version, { platforms: minor === 23 ? PLATFORMS : [{ os: 'linux', arch: 'amd64' }] });
  }
  await standin.addRelease(PRODUCT, '2.0.0-beta1', { platforms: PLATFORMS, protocols: ['6.0'] });
  await standin.addRelease(PRODUCT, '1.99.0', { platforms: PLATFORMS, state: 'withdrawn' });
  await standin.addRelease(PRODUCT, '1.23.0+ent', { platforms: PLATFORMS });
  await standin.addRelease(PRODUCT, '3.0.0', { platforms: PLATFORMS, protocols: ['6.0'] });
  await standin.addRelease(PRODUCT, '0.9.0', { platforms: PLATFORMS, noManifest: true });
  for (const v of ['3.1.0', '3.2.0', '3.3.0', '3.4.0']) await standin.addRelease(PRODUCT, v, { platforms: PLATFORMS });
  await standin.addRelease('terraform-provider-nosource', '1.0.0', { platforms: PLATFORMS, sourceRepository: null });
  await standin.addRelease('terraform-provider-plainsource', '1.0.0', { platforms: PLATFORMS, sourceRepository: 'http://github.com/hashicorp/x' });
  source = sourceWith();
});
test.after(() => standin.close());

test('listVersions: every page of the index (limit=20, after=<timestamp_created>), canonical versions only, withdrawn left out, ascending', async () => {
  const mark = standin.requests.length;
  const versions = await source.listVersions(subject);
  assert.equal(
    versions.map((v) => v.version),
    ['0.9.0', ...stable, '2.0.0-beta1', '3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0'],
  );
  assert.ok(versions.every((v) => typeof v.publishedAt === 'string' && !Number.isNaN(Date.parse(v.publishedAt))));
  const pages = requestsSince(mark);
  assert.is(pages.length, 3, 'two pages of releases, then an empty one');
  assert.is(pages[0], `/v1/releases/${PRODUCT}?limit=20`);
  assert.match(pages[1] ?? '', new RegExp(`^/v1/releases/${PRODUCT}\\?limit=20&after=\\d{4}-\\d\\d-\\d\\dT`));
});

test('fetch: each platform, with the bytes hashing to the signed expectedSha256, before which SHA256SUMS and its signature were checked', async () => {
  for (const { os, arch } of PLATFORMS) {
    const mark = standin.requests.length;
    const fetched = await source.fetch(subject, '1.23.0', { os, arch });
    const fetchedBeforeBody = requestsSince(mark);
    assert.is(fetched.filename, `terraform-provider-hello_1.23.0_${os}_${arch}.zip`);
    assert.is(fetched.expectedSha256, standin.sha256Of(PRODUCT, '1.23.0', os, arch));
    assert.equal(fetched.protocols, ['5.0']);
    const bytes = await readBody(fetched.body);
    assert.is(sha256(bytes), fetched.expectedSha256);
    assert.is(fetched.size, bytes.length);
    assert.equal(fetchedBeforeBody.slice(0, 4), [
      `/v1/releases/${PRODUCT}/1.23.0`,
      `/${PRODUCT}/1.23.0/${PRODUCT}_1.23.0_SHA256SUMS`,
      // The signature named after the trusted key is tried first.
      `/${PRODUCT}/1.23.0/${PRODUCT}_1.23.0_SHA256SUMS.${key.keyId.slice(-8)}.sig`,
      `/${PRODUCT}/1.23.0/${PRODUCT}_1.23.0_manifest.json`,
    ]);
  }
});

test('fetch: protocols come from the signed _manifest.json; 5.0 when a release has none', async () => {
  const v3 = await source.fetch(subject, '3.0.0', { os: 'darwin', arch: 'arm64' });
  assert.equal(v3.protocols, ['6.0']);
  await readBody(v3.body);
  const old = await source.fetch(subject, '0.9.0', { os: 'linux', arch: 'arm64' });
  assert.equal(old.protocols, ['5.0']);
  await readBody(old.body);
});

test("sourceRepository: the release's url_source_repository when it is an https URL, else undefined; an unknown release is NotFound", async () => {
  assert.is(await source.sourceRepository!(subject, '3.0.0'), `https://github.com/hashicorp/${PRODUCT}`);
  assert.is(await source.sourceRepository!(providerArchiveSubject({ name: 'nosource' }), '1.0.0'), undefined);
  assert.is(await source.sourceRepository!(providerArchiveSubject({ name: 'plainsource' }), '1.0.0'), undefined);
  await rejectsWith(source.sourceRepository!(subject, '9.9.9'), 'not_found');
});

test('a bad signature is an IntegrityError, raised before any package byte is requested', async () => {
  await standin.corruptSignature(PRODUCT, '3.1.0');
  const mark = standin.requests.length;
  const err = await rejectsWith(source.fetch(subject, '3.1.0', { os: 'linux', arch: 'amd64' }), 'integrity');
  assert.match(err.message, `${PRODUCT}_3.1.0_SHA256SUMS`);
  assert.match(err.message, key.keyId);
  assert.match(err.message, /does not verify/);
  assert.not.ok(
    requestsSince(mark).some((u) => u.endsWith('.zip')),
    'the zip was never requested',
  );
});

test('a signature by a key that is not trusted is an IntegrityError naming the signing key and the trusted ones', async () => {
  const untrusting = sourceWith({ hashicorpTrustedKeys: [stranger.publicKeyArmored] });
  const mark = standin.requests.length;
  const err = await rejectsWith(untrusting.fetch(subject, '3.2.0', { os: 'linux', arch: 'amd64' }), 'integrity');
  assert.match(err.message, `is signed by key ${key.keyId}`);
  assert.match(err.message, stranger.keyId);
  assert.match(err.message, 'hashicorpTrustedKeys');
  const asked = requestsSince(mark);
  assert.ok(asked.some((u) => u.endsWith('_SHA256SUMS.sig')) && asked.some((u) => u.endsWith(`.${key.keyId.slice(-8)}.sig`)), 'both listed signatures were tried');
  assert.not.ok(asked.some((u) => u.endsWith('.zip')));
});

test('a zip swapped upstream: expectedSha256 is still the signed one, and the body itself errors with an IntegrityError', async () => {
  await standin.corruptZip(PRODUCT, '3.3.0', 'linux', 'arm64');
  const fetched = await source.fetch(subject, '3.3.0', { os: 'linux', arch: 'arm64' });
  assert.is(fetched.expectedSha256, standin.sha256Of(PRODUCT, '3.3.0', 'linux', 'arm64'));
  const err = await rejectsWith(readBody(fetched.body), 'integrity');
  assert.match(err.message, `terraform-provider-hello_3.3.0_linux_arm64.zip`);
  assert.match(err.message, `expected sha256 ${fetched.expectedSha256}`);
});

test('no trusted key configured: an InputError naming hashicorpTrustedKeys, before any request', async () => {
  const mark = standin.requests.length;
  for (const options of [{ hashicorpTrustedKeys: [] }, { hashicorpTrustedKeys: undefined }]) {
    const err = await rejectsWith(sourceWith(options).fetch(subject, '3.0.0', { os: 'linux', arch: 'amd64' }), 'input');
    assert.match(err.message, 'hashicorpTrustedKeys');
  }
  assert.is(standin.requests.length, mark);
  const garbage = await rejectsWith(sourceWith({ hashicorpTrustedKeys: ['not a key'] }).fetch(subject, '3.0.0', { os: 'linux', arch: 'amd64' }), 'input');
  assert.match(garbage.message, 'hashicorpTrustedKeys[0]');
});

test('upstream down (connection refused, or 503) → UnavailableError; back up → works', async () => {
  await standin.down();
  try {
    const refused = await rejectsWith(source.listVersions(subject), 'unavailable');
    // A pooled keep-alive connection may see the close first; a new one is refused.
    assert.match(refused.message, /could not reach .*(ECONNREFUSED|UND_ERR_SOCKET)/);
    const again = await rejectsWith(source.fetch(subject, '3.0.0', { os: 'linux', arch: 'amd64' }), 'unavailable');
    assert.match(again.message, /ECONNREFUSED/);
  } finally {
    await standin.up();
  }
  await standin.down('503');
  try {
    const err = await rejectsWith(source.fetch(subject, '3.0.0', { os: 'linux', arch: 'amd64' }), 'unavailable');
    assert.match(err.message, /503/);
  } finally {
    await standin.up();
  }
  assert.ok((await source.listVersions(subject)).length > 20);
});

test('429 and 5xx → UnavailableError carrying Retry-After as retryAfterMs', async () => {
  standin.failNext(1, 429, 7);
  const limited = await rejectsWith(source.listVersions(subject), 'unavailable');
  assert.is((limited as unknown as { retryAfterMs?: number }).retryAfterMs, 7000);
  // A failure on the zip itself, after the checksums verified.
  const mark = standin.requests.length;
  standin.failNext(0);
  const fetchedOk = await source.fetch(subject, '3.4.0', { os: 'linux', arch: 'amd64' });
  await readBody(fetchedOk.body);
  assert.ok(requestsSince(mark).some((u) => u.endsWith('.zip')));
  standin.failNext(1, 502);
  const bad = await rejectsWith(source.fetch(subject, '3.4.0', { os: 'linux', arch: 'amd64' }), 'unavailable');
  assert.is((bad as unknown as { retryAfterMs?: number }).retryAfterMs, undefined);
});

test('unknown version, platform or product → NotFoundError', async () => {
  const version = await rejectsWith(source.fetch(subject, '9.9.9', { os: 'linux', arch: 'amd64' }), 'not_found');
  assert.match(version.message, '9.9.9');
  const platform = await rejectsWith(source.fetch(subject, '1.0.0', { os: 'windows', arch: 'amd64' }), 'not_found');
  assert.match(platform.message, 'windows_amd64');
  assert.match(platform.message, 'linux_amd64');
  await rejectsWith(source.listVersions(providerArchiveSubject({ name: 'nosuch' })), 'not_found');
});

test('bad requests are InputErrors: another namespace, no platform, an http:// API unless allowed', async () => {
  const other = await rejectsWith(source.listVersions(providerArchiveSubject({ name: 'hello', namespace: 'acme' })), 'input');
  assert.is(other.field, 'spec.providerConfig.namespace');
  await rejectsWith(source.fetch(subject, '3.0.0', {}), 'input');
  assert.throws(() => createProviderSource('hashicorp-releases', { hashicorpReleasesUrl: standin.url, hashicorpTrustedKeys: [key.publicKeyArmored] }), /only https/);
});

test('a key that has expired since it signed still verifies, with a warning (tofu and terraform accept it too)', async () => {
  // A short-lived key (RSA 2048 keeps generation quick; expiry is what matters here).
  const generated = await generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'Short-lived' }], keyExpirationTime: 2, format: 'armored' });
  const parsed = await readPrivateKey({ armoredKey: generated.privateKey });
  const shortLived: SigningKey = {
    privateKeyArmored: generated.privateKey,
    publicKeyArmored: generated.publicKey,
    keyId: parsed.getKeyID().toHex().toUpperCase(),
    fingerprint: parsed.getFingerprint().toUpperCase(),
  };
  const expiring = await startHashicorpReleasesStandin({ signingKey: shortLived });
  try {
    await expiring.addRelease(PRODUCT, '1.0.0', { platforms: [{ os: 'linux', arch: 'amd64' }] });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const logger = memoryLogger();
    const fetched = await createProviderSource('hashicorp-releases', {
      hashicorpReleasesUrl: expiring.url,
      hashicorpTrustedKeys: [shortLived.publicKeyArmored],
      allowInsecureHttp: true,
      egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] },
      logger,
    }).fetch(subject, '1.0.0', { os: 'linux', arch: 'amd64' });
    assert.is(sha256(await readBody(fetched.body)), fetched.expectedSha256);
    const warning = logger.lines.find((l) => l.level === 'warn');
    assert.ok(warning, 'a warning about the expired key');
    assert.is(warning?.fields?.key_id, shortLived.keyId);
  } finally {
    await expiring.close();
  }
});

test.run();
