// The egress policy of the archive sources (issue 10 §5), against local servers that play hostile
// upstreams. Names such as registry.test resolve to 127.0.0.1 through the policy's lookup, so the
// host allowlists are checked on names while every request lands on this machine; each test
// asserts that the server of a refused host received nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSigningKey, type SigningKey } from '@opendepot/testbed';
import { moduleArchiveSubject, providerArchiveSubject } from '@opendepot/archive-kit';
import { Egress, GitArchiveSource, GithubArchiveSource, parseCidr, type EgressOptions } from '../src/index.ts';
import { createProviderSource, rejectsWith } from './provider-sources-helpers.ts';

const NAMES = new Set(['registry.test', 'downloads.test', 'evil.test', 'api.github.test', 'codeload.github.test', 'git.test', 'releases.test']);
/** The policy's resolver for the tests' names: every one of them is 127.0.0.1. */
const testLookup = async (host: string) => {
  if (NAMES.has(host)) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`${host} is not a test name`), { code: 'ENOTFOUND' });
};
/** Loopback allowed, explicitly: the stand-ins are local. */
const LOOPBACK: EgressOptions = { allowedPrivateCidrs: ['127.0.0.0/8'], lookup: testLookup };

let key: SigningKey;
let server: Server;
let port: number;
/** Requests received, by Host name. */
const seen: Array<{ host: string; url: string }> = [];
const seenBy = (host: string) => seen.filter((r) => r.host === host).map((r) => r.url);
/** What the registry's download metadata hands back, per test. */
let handedBack: { download_url: string; shasums_url: string; shasums_signature_url: string };

const url = (host: string, path: string) => `http://${host}:${port}${path}`;

function answer(req: IncomingMessage): { status: number; headers?: Record<string, string>; body?: string } {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const path = req.url ?? '/';
  if (host === 'registry.test' || host === '127.0.0.1') {
    if (path === '/.well-known/terraform.json') return { status: 200, body: JSON.stringify({ 'providers.v1': '/v1/providers/' }) };
    if (path === '/v1/providers/acme/hello/versions') return { status: 200, body: JSON.stringify({ versions: [{ version: '1.0.0' }] }) };
    if (path === '/v1/providers/acme/hello/1.0.0/download/linux/amd64') {
      return {
        status: 200,
        body: JSON.stringify({
          os: 'linux',
          arch: 'amd64',
          filename: 'terraform-provider-hello_1.0.0_linux_amd64.zip',
          shasum: 'a'.repeat(64),
          ...handedBack,
          signing_keys: { gpg_public_keys: [{ key_id: key.keyId, ascii_armor: key.publicKeyArmored }] },
          protocols: ['5.0'],
        }),
      };
    }
  }
  // An allowed download host whose files moved to a host nobody allowed.
  if (host === 'downloads.test') return { status: 302, headers: { location: url('evil.test', path) } };
  // The GitHub API redirects archives; here to a host outside allowedGitHosts, or to an allowed one.
  if (host === 'api.github.test') {
    if (path.startsWith('/repos/acme/vpc/releases')) return { status: 302, headers: { location: url('codeload.github.test', '/releases.json') } };
    if (path.startsWith('/repos/acme/vpc/tarball/')) return { status: 302, headers: { location: url('evil.test', path) } };
  }
  if (host === 'codeload.github.test' && path === '/releases.json') return { status: 200, body: JSON.stringify([{ tag_name: 'v1.0.0', draft: false, published_at: '2026-01-01T00:00:00Z' }]) };
  if (host === 'releases.test' && path === '/v1/releases/terraform-provider-hello/1.0.0') {
    return {
      status: 200,
      body: JSON.stringify({
        name: 'terraform-provider-hello',
        version: '1.0.0',
        builds: [{ os: 'linux', arch: 'amd64', url: url('evil.test', '/terraform-provider-hello_1.0.0_linux_amd64.zip') }],
        url_shasums: url('releases.test', '/terraform-provider-hello_1.0.0_SHA256SUMS'),
        url_shasums_signatures: [url('releases.test', '/terraform-provider-hello_1.0.0_SHA256SUMS.sig')],
      }),
    };
  }
  return { status: 200, body: 'the attacker was reached' };
}

test.before(async () => {
  key = await createSigningKey({ name: 'Egress test', rsaBits: 2048 });
  server = createServer((req, res) => {
    seen.push({ host: (req.headers.host ?? '').replace(/:\d+$/, ''), url: req.url ?? '' });
    const { status, headers, body } = answer(req);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
test.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const registrySource = (egress: EgressOptions = LOOPBACK) =>
  createProviderSource('registry', {
    allowInsecureHttp: true,
    allowedRegistryHosts: ['registry.test'],
    allowedDownloadHosts: ['downloads.test'],
    egress,
  });
const registrySubject = (host = 'registry.test') => providerArchiveSubject({ name: 'hello', namespace: 'acme', source: 'registry', registryUrl: url(host, '') });
const platform = { os: 'linux', arch: 'amd64' };

test('a download_url on a host outside allowedDownloadHosts is refused before any request to it', async () => {
  handedBack = {
    download_url: url('evil.test', '/hello.zip'),
    shasums_url: url('registry.test', '/SHA256SUMS'),
    shasums_signature_url: url('registry.test', '/SHA256SUMS.sig'),
  };
  const err = await rejectsWith(registrySource().fetch(registrySubject(), '1.0.0', platform), 'input');
  assert.match(err.message, /download_url of registry\.test:\d+\/acme\/hello 1\.0\.0 linux_amd64: host evil\.test/);
  assert.match(err.hint ?? '', /operator\.providers\.allowedDownloadHosts/);
  assert.equal(seenBy('evil.test'), []);
  // The same answer is fine once the platform trusts that host: the policy, not the URL, decided.
  const shasums = await rejectsWith(
    createProviderSource('registry', { allowInsecureHttp: true, allowedRegistryHosts: ['registry.test'], allowedDownloadHosts: ['evil.test'], egress: LOOPBACK }).fetch(
      registrySubject(),
      '1.0.0',
      platform,
    ),
    'integrity',
  );
  assert.ok(shasums, 'got as far as checking the signature');
});

test('a redirect from an allowed download host to a host nobody allowed is refused, and never followed', async () => {
  handedBack = {
    download_url: url('downloads.test', '/hello.zip'),
    shasums_url: url('downloads.test', '/SHA256SUMS'),
    shasums_signature_url: url('downloads.test', '/SHA256SUMS.sig'),
  };
  const mark = seen.length;
  const err = await rejectsWith(registrySource().fetch(registrySubject(), '1.0.0', platform), 'input');
  assert.match(err.message, /redirect from downloads\.test.*host evil\.test/);
  assert.match(err.hint ?? '', /allowedDownloadHosts/);
  assert.equal(seenBy('evil.test'), []);
  assert.ok(
    seen.slice(mark).some((r) => r.host === 'downloads.test'),
    'the allowed host was asked',
  );
});

test('a loopback upstream is refused unless allowed, naming the field and the setting that allows it', async () => {
  const mark = seen.length;
  for (const host of ['127.0.0.1', 'registry.test']) {
    const err = await rejectsWith(createProviderSource('registry', { allowInsecureHttp: true, egress: { lookup: testLookup } }).listVersions(registrySubject(host)), 'input');
    assert.is(err.field, 'spec.providerConfig.registryUrl');
    assert.match(err.message, /127\.0\.0\.1.* is refused: it is a loopback address/);
    assert.match(err.hint ?? '', /operator\.egress\.allowedPrivateCidrs.*operator\.egress\.allowPrivateNetworks: true/);
  }
  assert.is(seen.length, mark, 'no request reached the server');
  // Allowed explicitly, the same registry answers.
  const versions = await registrySource().listVersions(registrySubject());
  assert.equal(
    versions.map((v) => v.version),
    ['1.0.0'],
  );
});

test('a name that resolves to loopback (localhost, or any name) is refused on the connection itself', async () => {
  const mark = seen.length;
  // The system resolver: localhost is 127.0.0.1 (and ::1).
  const plain = createProviderSource('registry', { allowInsecureHttp: true });
  const err = await rejectsWith(plain.listVersions(providerArchiveSubject({ name: 'hello', namespace: 'acme', source: 'registry', registryUrl: `http://localhost:${port}` })), 'input');
  assert.match(err.message, /localhost \((127\.0\.0\.1|::1)\).*loopback/);
  // A public-looking name whose DNS answer mixes a public address with a private one is refused too.
  const mixed = new Egress({
    lookup: async () => [
      { address: '203.0.113.7', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ],
  });
  const refused = await rejectsWith(mixed.resolve('mirror.example.com'), 'input');
  assert.match(refused.message, /mirror\.example\.com \(10\.1\.2\.3\).*private \(RFC 1918\)/);
  assert.is(seen.length, mark);
});

test('the address check covers every non-public range, IPv4-mapped IPv6 included; allowances are exact', () => {
  const strict = new Egress();
  const refused: Record<string, RegExp> = {
    '127.0.0.1': /loopback/,
    '10.0.0.1': /RFC 1918/,
    '172.31.255.255': /RFC 1918/,
    '192.168.1.1': /RFC 1918/,
    '169.254.169.254': /link-local/,
    '100.64.0.1': /carrier-grade NAT/,
    '0.0.0.0': /unspecified/,
    '224.0.0.1': /multicast/,
    '255.255.255.255': /reserved/,
    '::1': /loopback/,
    '::': /unspecified/,
    'fd00::1': /unique local/,
    'fe80::1': /link-local/,
    'ff02::1': /multicast/,
    '::ffff:127.0.0.1': /loopback/,
    '::ffff:a9fe:a9fe': /link-local/,
  };
  for (const [address, kind] of Object.entries(refused)) assert.match(strict.refusal(address) ?? 'allowed', kind, address);
  for (const address of ['140.82.112.3', '2606:50c0:8000::154', '172.32.0.1', '100.128.0.1']) assert.is(strict.refusal(address), undefined, address);
  const some = new Egress({ allowedPrivateCidrs: ['10.20.0.0/16', 'fd00:1::/32'] });
  assert.is(some.refusal('10.20.3.4'), undefined);
  assert.match(some.refusal('10.21.0.1') ?? '', /RFC 1918/);
  assert.is(some.refusal('fd00:1::5'), undefined);
  assert.is(new Egress({ allowPrivateNetworks: true }).refusal('169.254.169.254'), undefined);
  assert.throws(() => parseCidr('10.0.0.0'), /operator\.egress\.allowedPrivateCidrs: "10\.0\.0\.0" is not a CIDR range/);
  assert.throws(() => new Egress({ allowedPrivateCidrs: ['10.0.0.0/33'] }), /not a CIDR range/);
});

test('GitHub: redirects of the API are followed only to allowedGitHosts', async () => {
  const source = new GithubArchiveSource({ baseUrl: url('api.github.test', ''), allowedHosts: ['codeload.github.test'], retries: 0, egress: LOOPBACK });
  const subject = moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoOwner: 'acme', repoUrl: 'https://github.com/acme/vpc' });
  // The API's redirect to an allowed host is followed.
  assert.equal(
    (await source.listVersions(subject)).map((v) => v.version),
    ['1.0.0'],
  );
  const mark = seen.length;
  const err = await rejectsWith(source.fetch(subject, '1.0.0'), 'input');
  assert.match(err.message, /GitHub's redirect from api\.github\.test.*host evil\.test/);
  assert.match(err.hint ?? '', /operator\.allowedGitHosts/);
  assert.equal(seenBy('evil.test'), []);
  assert.ok(seen.slice(mark).some((r) => r.host === 'api.github.test'));
});

test('HashiCorp Releases: a build URL on a host outside allowedDownloadHosts is refused before any download', async () => {
  const source = createProviderSource('hashicorp-releases', {
    hashicorpReleasesUrl: url('releases.test', ''),
    hashicorpTrustedKeys: [key.publicKeyArmored],
    allowInsecureHttp: true,
    allowedDownloadHosts: ['releases.hashicorp.com'],
    egress: LOOPBACK,
  });
  const err = await rejectsWith(source.fetch(providerArchiveSubject({ name: 'hello' }), '1.0.0', platform), 'input');
  assert.match(err.message, /the build URL of terraform-provider-hello 1\.0\.0 linux_amd64: host evil\.test/);
  assert.equal(seenBy('evil.test'), []);
});

test('git: a remote whose host resolves to a non-public address is refused before git runs', async () => {
  const git = new GitArchiveSource({ egress: { lookup: testLookup }, git: '/nonexistent/git-must-not-run' });
  const err = await rejectsWith(git.listVersions(moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoUrl: 'https://git.test/acme/vpc.git' })), 'input');
  assert.is(err.field, 'spec.moduleConfig.repoUrl');
  assert.match(err.message, /git\.test \(127\.0\.0\.1\).*loopback/);
  assert.match(err.hint ?? '', /allowedPrivateCidrs/);
  const ssh = await rejectsWith(git.listVersions(moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoUrl: 'git@git.test:acme/vpc.git' })), 'input');
  assert.match(ssh.message, /loopback/);
  // Allowed, the check passes and git runs (here: a binary that does not exist, so it fails otherwise).
  const allowed = new GitArchiveSource({ egress: LOOPBACK, git: '/nonexistent/git-must-not-run' });
  const ran = await allowed.listVersions(moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoUrl: 'https://git.test/acme/vpc.git' })).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(ran?.message), /ENOENT/);
});

test('git over https runs pinned to the checked address, without following redirects', async () => {
  // A stand-in git binary that records the configuration it was given through the environment.
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-egress-git-'));
  try {
    const record = join(dir, 'env.txt');
    const fakeGit = join(dir, 'git');
    await writeFile(fakeGit, `#!/bin/sh\nenv | grep '^GIT_CONFIG_' | sort > '${record}'\nexit 0\n`, { mode: 0o755 });
    const git = new GitArchiveSource({ egress: LOOPBACK, git: fakeGit });
    await git.listVersions(moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoUrl: 'https://git.test:8443/acme/vpc.git' }));
    const env = await readFile(record, 'utf8');
    assert.match(env, /GIT_CONFIG_KEY_0=http\.curloptResolve\nGIT_CONFIG_KEY_1=http\.followRedirects/);
    assert.match(env, /GIT_CONFIG_VALUE_0=git\.test:8443:127\.0\.0\.1\n/);
    assert.match(env, /GIT_CONFIG_VALUE_1=false\n/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
