// The registry provider source against the provider registry stand-in (loopback only).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ArchiveSource } from '@opendepot/sdk';
import { createSigningKey, startProviderRegistryStandin, type ProviderRegistryStandin, type SigningKey } from '@opendepot/testbed';
import { providerArchiveSubject } from '@opendepot/archive-kit';
import type { ProviderSourceOptions } from '../src/providers/index.ts';
import { createProviderSource, readBody, rejectsWith, sha256 } from './provider-sources-helpers.ts';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
];

let key: SigningKey;
let stranger: SigningKey;
let standin: ProviderRegistryStandin;
let source: ArchiveSource;
let subject: ReturnType<typeof providerArchiveSubject>;

const sourceWith = (options: ProviderSourceOptions = {}) => createProviderSource('registry', { allowInsecureHttp: true, ...LOOPBACK, ...options });
// The stand-in is on loopback, which the sources refuse unless allowed.
const LOOPBACK = { egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } };
const requestsSince = (mark: number) => standin.requests.slice(mark).map((r) => r.url);

test.before(async () => {
  [key, stranger] = await Promise.all([createSigningKey({ name: 'Registry stand-in' }), createSigningKey({ name: 'Untrusted signer' })]);
  standin = await startProviderRegistryStandin({ signingKey: key });
  for (const version of ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0', '2.1.0', '2.2.0', '2.3.0', '2.4.0']) {
    await standin.addProvider('acme', 'hello', version, PLATFORMS, {
      ...(version.startsWith('2.') && { protocols: ['6.0'] }),
      // 1.1.0 names its source; 2.4.0 names one that is not an https URL.
      ...(version === '1.1.0' && { sourceRepository: 'https://github.com/acme/terraform-provider-hello' }),
      ...(version === '2.4.0' && { sourceRepository: 'git@github.com:acme/terraform-provider-hello.git' }),
    });
  }
  subject = providerArchiveSubject({ name: 'hello', namespace: 'acme', source: 'registry', registryUrl: standin.url });
  source = sourceWith({ allowedRegistryHosts: ['127.0.0.1'] });
});
test.after(() => standin.close());

test('a subject without registry URL or namespace: the registry source asks registry.opentofu.org for hashicorp/<type>', async () => {
  assert.equal(subject, { kind: 'provider', name: 'hello', namespace: 'acme', url: standin.url, settings: { source: 'registry' } });
  // The host allowlist refuses the default registry before any request: the message shows which one it was.
  const err = await rejectsWith(createProviderSource('registry', { allowedRegistryHosts: ['registry.example.com'] }).listVersions(providerArchiveSubject({ name: 'aws' })), 'input');
  assert.match(err.message, /registry\.opentofu\.org/);
});

test('listVersions: service discovery, then <providers.v1><namespace>/<type>/versions, ascending', async () => {
  const mark = standin.requests.length;
  const versions = await sourceWith().listVersions(subject);
  assert.equal(
    versions.map((v) => v.version),
    ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0', '2.1.0', '2.2.0', '2.3.0', '2.4.0'],
  );
  assert.equal(requestsSince(mark), ['/.well-known/terraform.json', '/v1/providers/acme/hello/versions']);
});

test('fetch: each platform, bytes hashing to the signed expectedSha256 (= the registry shasum), protocols from the download answer', async () => {
  for (const { os, arch } of PLATFORMS) {
    const mark = standin.requests.length;
    const fetched = await source.fetch(subject, '2.0.0', { os, arch });
    const beforeBody = requestsSince(mark);
    assert.is(fetched.filename, `terraform-provider-hello_2.0.0_${os}_${arch}.zip`);
    assert.is(fetched.expectedSha256, standin.sha256Of('acme', 'hello', '2.0.0', os, arch));
    assert.equal(fetched.protocols, ['6.0']);
    const bytes = await readBody(fetched.body);
    assert.is(sha256(bytes), fetched.expectedSha256);
    assert.is(fetched.size, bytes.length);
    assert.ok(beforeBody.includes(`/files/acme/hello/2.0.0/terraform-provider-hello_2.0.0_SHA256SUMS.sig`));
  }
  const v1 = await source.fetch(subject, '1.0.0', { os: 'linux', arch: 'amd64' });
  assert.equal(v1.protocols, ['5.0']);
  await readBody(v1.body);
});

test('fetch: URLs relative to the download answer resolve against it', async () => {
  const relative = await startProviderRegistryStandin({ signingKey: key, relativeUrls: true });
  try {
    await relative.addProvider('acme', 'hello', '1.0.0', PLATFORMS);
    const fetched = await sourceWith().fetch(providerArchiveSubject({ name: 'hello', namespace: 'acme', source: 'registry', registryUrl: relative.url }), '1.0.0', {
      os: 'darwin',
      arch: 'arm64',
    });
    assert.is(sha256(await readBody(fetched.body)), relative.sha256Of('acme', 'hello', '1.0.0', 'darwin', 'arm64'));
  } finally {
    await relative.close();
  }
});

test('a bad signature is an IntegrityError, raised before any package byte is requested', async () => {
  await standin.corruptSignature('acme', 'hello', '2.1.0');
  const mark = standin.requests.length;
  const err = await rejectsWith(source.fetch(subject, '2.1.0', { os: 'linux', arch: 'amd64' }), 'integrity');
  assert.match(err.message, 'terraform-provider-hello_2.1.0_SHA256SUMS');
  assert.match(err.message, `by key ${key.keyId} does not verify`);
  assert.not.ok(requestsSince(mark).some((u) => u.endsWith('.zip')));
});

test('signing_keys that did not sign SHA256SUMS: an IntegrityError naming the signing key; no key at all: refused too', async () => {
  standin.setServedKeys([stranger.publicKeyArmored]);
  try {
    const err = await rejectsWith(source.fetch(subject, '2.2.0', { os: 'linux', arch: 'amd64' }), 'integrity');
    assert.match(err.message, `is signed by key ${key.keyId}`);
    assert.match(err.message, stranger.keyId);
    standin.setServedKeys([]);
    const none = await rejectsWith(source.fetch(subject, '2.2.0', { os: 'linux', arch: 'amd64' }), 'integrity');
    assert.match(none.message, /lists no signing key/);
    standin.setServedKeys(['-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbroken\n-----END PGP PUBLIC KEY BLOCK-----']);
    await rejectsWith(source.fetch(subject, '2.2.0', { os: 'linux', arch: 'amd64' }), 'integrity');
  } finally {
    standin.setServedKeys(undefined);
  }
});

test('a shasum that differs from the signed SHA256SUMS line is an IntegrityError, before any package byte is requested', async () => {
  standin.corruptShasum('acme', 'hello', '2.3.0', 'linux', 'arm64');
  const mark = standin.requests.length;
  const err = await rejectsWith(source.fetch(subject, '2.3.0', { os: 'linux', arch: 'arm64' }), 'integrity');
  assert.match(err.message, 'f'.repeat(64));
  assert.match(err.message, standin.sha256Of('acme', 'hello', '2.3.0', 'linux', 'arm64'));
  assert.not.ok(requestsSince(mark).some((u) => u.endsWith('.zip')));
});

test('a zip swapped upstream: expectedSha256 is still the signed one, and the body errors with an IntegrityError', async () => {
  await standin.corruptZip('acme', 'hello', '2.4.0', 'darwin', 'arm64');
  const fetched = await source.fetch(subject, '2.4.0', { os: 'darwin', arch: 'arm64' });
  assert.is(fetched.expectedSha256, standin.sha256Of('acme', 'hello', '2.4.0', 'darwin', 'arm64'));
  const err = await rejectsWith(readBody(fetched.body), 'integrity');
  assert.match(err.message, /does not match its signed checksum/);
});

test('upstream down or failing → UnavailableError; 429 carries Retry-After as retryAfterMs', async () => {
  const fresh = sourceWith(); // no discovery cached yet
  await standin.down();
  try {
    const err = await rejectsWith(fresh.listVersions(subject), 'unavailable');
    assert.match(err.message, /discovering the services of 127\.0\.0\.1/);
  } finally {
    await standin.up();
  }
  standin.failNext(1, 429, 12);
  const limited = await rejectsWith(fresh.listVersions(subject), 'unavailable');
  assert.is((limited as unknown as { retryAfterMs?: number }).retryAfterMs, 12_000);
  await fresh.listVersions(subject);
  standin.failNext(1, 503);
  await rejectsWith(fresh.fetch(subject, '1.0.0', { os: 'linux', arch: 'amd64' }), 'unavailable');
  const ok = await fresh.fetch(subject, '1.0.0', { os: 'linux', arch: 'amd64' });
  await readBody(ok.body);
});

test('a registry host outside allowedRegistryHosts is an InputError, before any request', async () => {
  const mark = standin.requests.length;
  const err = await rejectsWith(sourceWith({ allowedRegistryHosts: ['registry.opentofu.org', '*.example.com'] }).listVersions(subject), 'input');
  assert.is(err.field, 'spec.providerConfig.registryUrl');
  assert.match(err.message, /127\.0\.0\.1 is not in allowedRegistryHosts/);
  await rejectsWith(sourceWith({ allowedRegistryHosts: [] }).fetch(subject, '1.0.0', { os: 'linux', arch: 'amd64' }), 'input');
  assert.is(standin.requests.length, mark);
});

test('http:// registries only with allowInsecureHttp; a host without providers.v1 is an InputError', async () => {
  const strict = createProviderSource('registry', {});
  const err = await rejectsWith(strict.listVersions(subject), 'input');
  assert.match(err.message, /only https/);
  // A host whose discovery has no providers.v1, and one with no discovery document at all.
  const server = createServer((req, res) => {
    const modulesOnly = req.url === '/.well-known/terraform.json' && req.headers.host?.startsWith('127.0.0.1');
    res.writeHead(modulesOnly ? 200 : 404, { 'content-type': 'application/json' });
    res.end(modulesOnly ? '{"modules.v1":"/v1/modules/"}' : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const modulesOnly = await rejectsWith(sourceWith().listVersions(providerArchiveSubject({ name: 'hello', source: 'registry', registryUrl: `http://127.0.0.1:${port}` })), 'input');
    assert.match(modulesOnly.message, /does not offer a provider registry/);
    const nothing = await rejectsWith(sourceWith().listVersions(providerArchiveSubject({ name: 'hello', source: 'registry', registryUrl: `http://localhost:${port}` })), 'input');
    assert.match(nothing.message, /offers no registry services/);
  } finally {
    server.close();
  }
});

test('sourceRepository: the source of <providers.v1><namespace>/<type>/<version>; undefined when the registry has no such answer or names no https URL', async () => {
  const mark = standin.requests.length;
  assert.is(await source.sourceRepository!(subject, '1.1.0'), 'https://github.com/acme/terraform-provider-hello');
  assert.ok(requestsSince(mark).includes('/v1/providers/acme/hello/1.1.0'));
  assert.is(await source.sourceRepository!(subject, '1.0.0'), undefined, 'a 404 (an endpoint beside the protocol) is no source');
  assert.is(await source.sourceRepository!(subject, '2.4.0'), undefined, 'only an https URL is taken');
  await rejectsWith(source.sourceRepository!(subject, 'latest'), 'input');
});

test('unknown provider, version or platform → NotFoundError', async () => {
  await rejectsWith(source.listVersions(providerArchiveSubject({ name: 'nosuch', namespace: 'acme', source: 'registry', registryUrl: standin.url })), 'not_found');
  const version = await rejectsWith(source.fetch(subject, '9.0.0', { os: 'linux', arch: 'amd64' }), 'not_found');
  assert.match(version.message, '9.0.0');
  const platform = await rejectsWith(source.fetch(subject, '1.0.0', { os: 'windows', arch: 'amd64' }), 'not_found');
  assert.match(platform.message, 'windows_amd64');
});

test.run();
