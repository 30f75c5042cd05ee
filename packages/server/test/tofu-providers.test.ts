/**
 * The real clients against providers.v1 and the network mirror over HTTPS: `tofu init`
 * (OpenTofu 1.12) and `terraform init` (Terraform 1.5.7) resolve `~> 1.1` among 1.0.0, 1.1.0,
 * 1.2.0 and 2.0.0, install 1.2.0 verifying OpenDepot's signature, and lock its hashes. The clients
 * refuse a package list signed by another key than the one served, and a swapped binary; real
 * `gpg --verify` accepts the signature; with only a `network_mirror` block tofu installs
 * `registry.opentofu.org/hashicorp/hello` from the mirror and `providers lock` records h1: for two
 * platforms. OpenTofu's `packages` (RFC 20251027): tofu init of a registry.opentofu.org provider
 * served by OpenDepot locks every platform as `providers lock` with every `-platform` does.
 *
 * Offline recipe of protocol.md §8: a CLI config `host` block maps opendepot.test to the server
 * (no discovery, no DNS), SSL_CERT_FILE trusts the test CA, HOME is a temporary directory.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, type Module, type Version } from '@opendepot/core';
import type { PresignOptions, StorageBackend } from '@opendepot/sdk';
import { cliConfigText, createSigningKey, createTestCertificates, runRegistryClient, type ClientRun } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRegistryServer, signingKeyOf, type ListeningServer, type RegistryServer, type SigningKey } from '../src/index.ts';
import { DiskStorage } from './support/disk-storage.ts';
import { NS } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';
import { providerKey, providerPackage, providerVersionResource, storeProvider, type ProviderPackage } from './support/providers.ts';

const execFileAsync = promisify(execFile);
const HOST = 'opendepot.test';
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];
const PLATFORMS = [
  ['linux', 'amd64'],
  ['darwin', 'arm64'],
] as const;

let dir: string;
let storage: DiskStorage;
let caFile: string;
let caPem: string;
let key: SigningKey;
let otherKey: SigningKey;
const servers: { registry: RegistryServer; listening: ListeningServer }[] = [];
let fileServer: Server;
/** Server signing with the configured key. */
let good: ListeningServer;
/** Server that serves the configured public key but signs with another key. */
let mismatched: ListeningServer;
const packages = new Map<string, ProviderPackage>();
const logLines: Record<string, unknown>[] = [];

const pkg = (version: string, platform: string) => packages.get(`${version}/${platform}`)!;

/** The disk storage, able to pre-sign: URLs of a plain file server over the same directory. */
function presigningStorage(fileServerUrl: () => string): StorageBackend {
  return Object.assign(Object.create(storage) as DiskStorage, {
    capabilities: { presign: true },
    async presign(storageKey: string, options: PresignOptions) {
      return { url: `${fileServerUrl()}/${storageKey}`, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000) };
    },
  });
}

async function startRegistry(signingKey: SigningKey, informers: { modules: MemoryInformer<Module>; versions: MemoryInformer<Version> }, backend: StorageBackend): Promise<ListeningServer> {
  const registry = createRegistryServer({
    informers,
    resolveStorage: async () => backend,
    logger: createLogger({ destination: { write: (line: string) => logLines.push(JSON.parse(line)) } }),
    defaultMetrics: false,
    signingKey,
  });
  const listening = await registry.listen({ port: 0, host: '127.0.0.1', tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, closeGraceMs: 100 });
  servers.push({ registry, listening });
  return listening;
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-tofu-providers-'));
  storage = new DiskStorage(join(dir, 'objects'));
  const informers = { modules: new MemoryInformer<Module>(), versions: new MemoryInformer<Version>() };
  for (const version of VERSIONS) {
    for (const [os, arch] of PLATFORMS) {
      const p = await providerPackage('hello', version, os, arch);
      packages.set(`${version}/${os}_${arch}`, p);
      informers.versions.put(providerVersionResource({ type: 'hello', version, os, arch, stored: await storeProvider(storage, NS, p) }));
    }
  }
  // "direct": a provider whose storage hands out pre-signed URLs, so bytes reach the client
  // without passing the server's hash check and only the client's own check stands.
  const direct = await providerPackage('direct', '1.0.0', 'linux', 'amd64');
  packages.set('direct/linux_amd64', direct);
  informers.versions.put(
    providerVersionResource({
      type: 'direct',
      version: '1.0.0',
      os: 'linux',
      arch: 'amd64',
      stored: await storeProvider(storage, NS, direct),
      storageConfig: { filesystem: { path: '/data' }, presign: { enabled: true, fallbackToProxy: false } },
    }),
  );

  fileServer = createServer((req, res) => {
    const stream = createReadStream(storage.path(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1))));
    stream.on('error', () => res.writeHead(404).end());
    stream.once('open', () => res.writeHead(200, { 'Content-Type': 'application/zip' }));
    stream.pipe(res);
  });
  await new Promise<void>((resolve) => fileServer.listen(0, '127.0.0.1', resolve));
  const fileServerUrl = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;

  const certs = await createTestCertificates();
  caPem = certs.caPem;
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);

  key = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Server Test' })).privateKeyArmored);
  otherKey = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Impostor' })).privateKeyArmored);
  const backend = presigningStorage(() => fileServerUrl);
  good = await startRegistry(key, informers, backend);
  // Publishes the configured key, signs with another one: what a client must refuse.
  mismatched = await startRegistry({ ...key, sign: (data) => otherKey.sign(data) }, informers, backend);
});

test.after(async () => {
  for (const { registry, listening } of servers) {
    registry.dispose();
    await listening.close();
  }
  await new Promise((resolve) => fileServer?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cliConfigFor(server: ListeningServer, name: string): Promise<string> {
  const path = join(dir, `${name}.tfrc`);
  await writeFile(path, cliConfigText(HOST, { 'providers.v1': `${server.url}/opendepot/providers/v1/` }));
  return path;
}

function requiredProvider(name: string, source: string, version: string): string {
  return `terraform {\n  required_providers {\n    ${name} = {\n      source  = "${source}"\n      version = "${version}"\n    }\n  }\n}\n`;
}

const helloSource = `${HOST}/${NS}/hello`;

async function lockFile(run: ClientRun): Promise<string> {
  return readFile(join(run.workdir, '.terraform.lock.hcl'), 'utf8');
}

/** Client output with its line wrapping undone. */
function flat(output: string): string {
  return output.replace(/\s+/g, ' ');
}

function hashesIn(lock: string): string[] {
  return [...lock.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]!).sort();
}

test('tofu init installs 1.2.0 for "~> 1.1", verifying OpenDepot\'s signature, and locks h1: plus the signed zh: hashes', async () => {
  const run = await runRegistryClient('tofu', { parentDir: dir, cliConfig: await cliConfigFor(good, 'good'), caFile, mainTf: requiredProvider('hello', helloSource, '~> 1.1') });
  assert.is(run.code, 0, run.output);
  assert.match(run.output, `- Installed ${helloSource} v1.2.0 (signed, key ID ${key.keyId})`);
  const lock = await lockFile(run);
  assert.match(lock, `provider "${helloSource}" {\n  version     = "1.2.0"\n  constraints = "~> 1.1"`);
  // h1: of the installed package, and zh: of every platform the signed SHA256SUMS lists.
  assert.equal(hashesIn(lock), [pkg('1.2.0', 'linux_amd64').h1, `zh:${pkg('1.2.0', 'darwin_arm64').checksum}`, `zh:${pkg('1.2.0', 'linux_amd64').checksum}`].sort());
  const installed = join(run.workdir, `.terraform/providers/${helloSource}/1.2.0/linux_amd64/terraform-provider-hello_v1.2.0`);
  assert.ok((await readFile(installed)).length > 0);
});

test('terraform 1.5.7 init installs 1.2.0 for "~> 1.1" (self-signed, key ID) and locks the same hashes', async () => {
  const run = await runRegistryClient('terraform', { parentDir: dir, cliConfig: await cliConfigFor(good, 'good'), caFile, mainTf: requiredProvider('hello', helloSource, '~> 1.1') });
  assert.is(run.code, 0, run.output);
  assert.match(run.output, `- Installed ${helloSource} v1.2.0 (self-signed, key ID ${key.keyId})`);
  assert.equal(hashesIn(await lockFile(run)), [pkg('1.2.0', 'linux_amd64').h1, `zh:${pkg('1.2.0', 'darwin_arm64').checksum}`, `zh:${pkg('1.2.0', 'linux_amd64').checksum}`].sort());
});

test('both clients refuse a package list signed by another key than the one served', async () => {
  const cliConfig = await cliConfigFor(mismatched, 'mismatched');
  for (const tool of ['tofu', 'terraform'] as const) {
    const run = await runRegistryClient(tool, { parentDir: dir, cliConfig, caFile, mainTf: requiredProvider('hello', helloSource, '~> 1.1') });
    assert.is.not(run.code, 0, `${tool}: ${run.output}`);
    const said = flat(run.output);
    assert.match(said, 'Failed to install provider', run.output);
    const reason =
      tool === 'tofu'
        ? 'the provider is not signed with a valid signing key; please contact the provider author (authentication signature from unknown issuer)'
        : 'authentication signature from unknown issuer';
    assert.match(said, `Error while installing ${helloSource} v1.2.0: ${reason}`, run.output);
    assert.not.match(await readFile(join(run.workdir, '.terraform.lock.hcl'), 'utf8').catch(() => ''), 'hello', tool);
  }
});

test("a swapped binary is refused: by the client's own checksum when storage serves it directly, by a cut-off transfer when proxied", async () => {
  // Pre-signed: the bytes never pass the server; the signed SHA256SUMS still names the recorded hash.
  const direct = packages.get('direct/linux_amd64')!;
  const swapped = await providerPackage('direct', '1.0.1', 'linux', 'amd64');
  const directPath = storage.path(providerKey(NS, direct));
  await writeFile(directPath, swapped.data);
  try {
    for (const tool of ['tofu', 'terraform'] as const) {
      const run = await runRegistryClient(tool, { parentDir: dir, cliConfig: await cliConfigFor(good, 'good'), caFile, mainTf: requiredProvider('direct', `${HOST}/${NS}/direct`, '1.0.0') });
      assert.is.not(run.code, 0, `${tool}: ${run.output}`);
      assert.match(flat(run.output), `archive has incorrect checksum zh:${swapped.checksum} (expected zh:${direct.checksum})`, run.output);
    }
  } finally {
    await writeFile(directPath, direct.data);
  }

  // Proxied, same size, one byte flipped: the server's hash cuts the transfer short.
  const original = pkg('1.2.0', 'linux_amd64');
  const path = storage.path(providerKey(NS, original));
  const tampered = Buffer.from(original.data);
  tampered[tampered.length - 30] = tampered[tampered.length - 30]! ^ 0x01;
  await writeFile(path, tampered);
  try {
    const run = await runRegistryClient('tofu', {
      parentDir: dir,
      cliConfig: await cliConfigFor(good, 'good'),
      caFile,
      mainTf: requiredProvider('hello', helloSource, '1.2.0'),
    });
    assert.is.not(run.code, 0, run.output);
    // The client retries, then reports the truncated body (the last chunk never came).
    assert.match(flat(run.output), new RegExp(`Error while installing ${helloSource} v1\\.2\\.0: .*${original.filename}": EOF`), run.output);
    assert.not.match(run.output, '- Installed');
  } finally {
    await writeFile(path, original.data);
  }
  assert.ok(logLines.some((l) => l.msg === 'request' && l.route === 'providers.package' && l.outcome === 'checksum-mismatch'));
});

// OpenTofu's RFC 20251027 ("Improving interactions with provider locking"): the download answer's
// `packages` names h1: and zh: of every platform. tofu 1.12 reads it in registryClient.PackageMeta
// (init, providers lock, providers mirror) and checks the asked platform's size and zh:, but puts the
// other platforms' unsigned hashes in the lock file only for providers of registry.opentofu.org
// (installer.go: ShouldEnforceGPGValidationForProvider); elsewhere only GPG-signed hashes go in.

/** `tofu providers lock` for both platforms: each package downloaded and hashed by tofu itself. */
async function lockEveryPlatform(): Promise<string[]> {
  const run = await runRegistryClient('tofu', {
    parentDir: dir,
    cliConfig: await cliConfigFor(good, 'good'),
    caFile,
    mainTf: requiredProvider('hello', helloSource, '~> 1.1'),
    args: ['providers', 'lock', '-platform=linux_amd64', '-platform=darwin_arm64', '-no-color'],
  });
  assert.is(run.code, 0, run.output);
  return hashesIn(await lockFile(run));
}

test('tofu init reads packages: for registry.opentofu.org (a host block pointing at OpenDepot) it locks every platform with the hashes `tofu providers lock -platform=… -platform=…` writes', async () => {
  const everyPlatform = await lockEveryPlatform();
  // What tofu computed downloading each platform equals what OpenDepot recorded.
  assert.equal(everyPlatform, [pkg('1.2.0', 'linux_amd64').h1, pkg('1.2.0', 'darwin_arm64').h1, `zh:${pkg('1.2.0', 'linux_amd64').checksum}`, `zh:${pkg('1.2.0', 'darwin_arm64').checksum}`].sort());

  // The default registry's host served by OpenDepot, as a mirror of the public registry would be.
  const cliConfig = join(dir, 'default-host.tfrc');
  await writeFile(cliConfig, cliConfigText('registry.opentofu.org', { 'providers.v1': `${good.url}/opendepot/providers/v1/` }));
  const run = await runRegistryClient('tofu', {
    parentDir: dir,
    cliConfig,
    caFile,
    mainTf: requiredProvider('hello', `registry.opentofu.org/${NS}/hello`, '~> 1.1'),
    env: { TF_LOG: 'debug' },
  });
  assert.is(run.code, 0, run.output);
  assert.match(run.output, `- Installed ${NS}/hello v1.2.0 (signed, key ID ${key.keyId})`);
  // Only linux_amd64 was downloaded: darwin_arm64's h1: can only have come from packages.
  assert.equal(hashesIn(await lockFile(run)), everyPlatform);
  assert.match(run.output, `Package information present in registry response for registry.opentofu.org/${NS}/hello 1.2.0 (for linux_amd64)`);
});

test("for OpenDepot's own host tofu 1.12 checks packages yet locks only the signed zh: and its own h1: (it keeps unsigned hashes out); terraform 1.5.7 ignores packages", async () => {
  const cliConfig = await cliConfigFor(good, 'good');
  const run = await runRegistryClient('tofu', { parentDir: dir, cliConfig, caFile, mainTf: requiredProvider('hello', helloSource, '~> 1.1'), env: { TF_LOG: 'debug' } });
  assert.is(run.code, 0, run.output);
  assert.match(run.output, `Package information present in registry response for ${helloSource} 1.2.0 (for linux_amd64)`);
  assert.not.match(run.output, 'Package information missing');
  const signedOnly = [pkg('1.2.0', 'linux_amd64').h1, `zh:${pkg('1.2.0', 'darwin_arm64').checksum}`, `zh:${pkg('1.2.0', 'linux_amd64').checksum}`].sort();
  assert.equal(hashesIn(await lockFile(run)), signedOnly);
  const terraform = await runRegistryClient('terraform', { parentDir: dir, cliConfig, caFile, mainTf: requiredProvider('hello', helloSource, '~> 1.1') });
  assert.is(terraform.code, 0, terraform.output);
  assert.equal(hashesIn(await lockFile(terraform)), signedOnly);
});

function httpsBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca: caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('gpg --verify accepts SHA256SUMS.sig against the exported public key, and rejects an altered SHA256SUMS', async () => {
  const home = await mkdtemp(join(dir, 'gnupg-'));
  const base = `${good.url}/opendepot/providers/v1/${NS}/hello/1.2.0`;
  await writeFile(join(home, 'key.asc'), await httpsBytes(`${good.url}/opendepot/providers/v1/signing-key.asc`));
  await writeFile(join(home, 'SHA256SUMS'), await httpsBytes(`${base}/SHA256SUMS`));
  await writeFile(join(home, 'SHA256SUMS.sig'), await httpsBytes(`${base}/SHA256SUMS.sig`));
  const gpg = (...args: string[]) => execFileAsync('gpg', ['--batch', '--no-tty', ...args], { env: { ...process.env, GNUPGHOME: home } });
  await gpg('--import', join(home, 'key.asc'));
  const { stderr } = await gpg('--status-fd', '2', '--verify', join(home, 'SHA256SUMS.sig'), join(home, 'SHA256SUMS'));
  assert.match(stderr, 'Good signature');
  assert.match(stderr, new RegExp(`\\[GNUPG:\\] VALIDSIG ${key.fingerprint.toUpperCase()}`));

  await writeFile(
    join(home, 'SHA256SUMS'),
    (await readFile(join(home, 'SHA256SUMS'), 'utf8')).replace(/^./, (c) => (c === '0' ? '1' : '0')),
  );
  const altered = await gpg('--verify', join(home, 'SHA256SUMS.sig'), join(home, 'SHA256SUMS')).then(
    () => 'verified',
    (err: { stderr?: string }) => err.stderr ?? '',
  );
  assert.match(altered, 'BAD signature');
});

async function mirrorCliConfig(options: { trustAllHashes?: boolean } = {}): Promise<{ path: string; url: string }> {
  const url = `${good.url}/opendepot/mirror/v1/`;
  const path = join(dir, options.trustAllHashes ? 'mirror-trust-all.tfrc' : 'mirror.tfrc');
  // Only a network_mirror block: no host block, no direct installation.
  const trust = options.trustAllHashes ? '    trust_all_hashes = true\n' : '';
  await writeFile(path, `provider_installation {\n  network_mirror {\n    url = "${url}"\n${trust}  }\n}\n`);
  return { path, url };
}

const mirroredSource = 'registry.opentofu.org/hashicorp/hello';

test('with only a network_mirror block, tofu init installs registry.opentofu.org/hashicorp/hello from the mirror', async () => {
  const { path } = await mirrorCliConfig();
  const run = await runRegistryClient('tofu', { parentDir: dir, cliConfig: path, caFile, mainTf: requiredProvider('hello', mirroredSource, '~> 1.1') });
  assert.is(run.code, 0, run.output);
  // tofu names providers of its default registry without the host.
  assert.match(run.output, '- Installed hashicorp/hello v1.2.0 (verified checksum)', run.output);
  const lock = await lockFile(run);
  assert.match(lock, `provider "${mirroredSource}" {\n  version     = "1.2.0"`);
  const linux = pkg('1.2.0', 'linux_amd64');
  assert.ok(hashesIn(lock).includes(linux.h1), lock);
  assert.ok(logLines.some((l) => l.msg === 'request' && l.route === 'mirror.version' && String(l.userAgent).includes('OpenTofu')));

  // Trusting the mirror's hashes (tofu 1.12), init locks h1: and zh: of every platform it holds.
  const trusting = await runRegistryClient('tofu', {
    parentDir: dir,
    cliConfig: (await mirrorCliConfig({ trustAllHashes: true })).path,
    caFile,
    mainTf: requiredProvider('hello', mirroredSource, '~> 1.1'),
  });
  assert.is(trusting.code, 0, trusting.output);
  const darwin = pkg('1.2.0', 'darwin_arm64');
  assert.equal(hashesIn(await lockFile(trusting)), [linux.h1, darwin.h1, `zh:${linux.checksum}`, `zh:${darwin.checksum}`].sort());
});

test('terraform 1.5.7 installs from the mirror too', async () => {
  const { path } = await mirrorCliConfig();
  const run = await runRegistryClient('terraform', { parentDir: dir, cliConfig: path, caFile, mainTf: requiredProvider('hello', 'registry.terraform.io/hashicorp/hello', '~> 1.1') });
  assert.is(run.code, 0, run.output);
  assert.match(run.output, '- Installed hashicorp/hello v1.2.0 (verified checksum)');
  assert.ok(hashesIn(await lockFile(run)).includes(pkg('1.2.0', 'linux_amd64').h1));
});

test('tofu providers lock through the mirror writes h1: hashes for linux_amd64 and darwin_arm64', async () => {
  const { path, url } = await mirrorCliConfig();
  const run = await runRegistryClient('tofu', {
    parentDir: dir,
    cliConfig: path,
    caFile,
    mainTf: requiredProvider('hello', mirroredSource, '~> 1.1'),
    args: ['providers', 'lock', `-net-mirror=${url}`, '-platform=linux_amd64', '-platform=darwin_arm64', '-no-color'],
  });
  assert.is(run.code, 0, run.output);
  const hashes = hashesIn(await lockFile(run));
  for (const platform of ['linux_amd64', 'darwin_arm64']) assert.ok(hashes.includes(pkg('1.2.0', platform).h1), `${platform} h1 in ${hashes.join(', ')}`);
});

test.run();
