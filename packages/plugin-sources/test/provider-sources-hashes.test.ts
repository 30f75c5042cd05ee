// h1:/zh: of provider packages checked against the real tofu, the stand-ins' signatures against the
// real gpg, and the test packages' layout.
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readKey } from 'openpgp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yauzl from 'yauzl';
import yazl from 'yazl';
import {
  createSigningKey,
  createTestCertificates,
  ensureTool,
  makeProviderZip,
  startHashicorpReleasesStandin,
  startProviderRegistryStandin,
  writeProviderZip,
  type SigningKey,
} from '@opendepot/testbed';
import { providerArchiveSubject, providerPackageHashes } from '@opendepot/archive-kit';
import { createProviderSource, readBody, rejectsWith, sha256 } from './provider-sources-helpers.ts';

const run = promisify(execFile);
const HOST_OS = process.platform === 'darwin' ? 'darwin' : 'linux';
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

let work: string;
let tofu: string;
let key: SigningKey;

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'opendepot-provider-hashes-'));
  [tofu, key] = await Promise.all([ensureTool('tofu'), createSigningKey({ name: 'Hash test signer' })]);
});
test.after(() => rm(work, { recursive: true, force: true }));

async function* chunksOf(bytes: Buffer, size = 7919): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** A zip with directory entries and extra files, as some third-party packages are. */
async function zipWithDirectories(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date(Date.UTC(2024, 0, 1));
  zip.addEmptyDirectory('docs/', { mtime });
  zip.addBuffer(Buffer.from('#!/bin/sh\nexit 1\n'), 'terraform-provider-hello_v1.0.0', { mtime, mode: 0o100755 });
  zip.addBuffer(Buffer.from('# hello\n'), 'docs/README.md', { mtime, mode: 0o100644 });
  zip.addBuffer(Buffer.from('MPL-2.0\n'), 'LICENSE', { mtime, mode: 0o100644 });
  zip.end();
  return readBody(zip.outputStream as unknown as AsyncIterable<Uint8Array>);
}

/** Runs tofu isolated from the machine's configuration. */
async function runTofu(args: string[], cwd: string, cliConfig: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const home = join(work, 'home');
  await mkdir(home, { recursive: true });
  const rc = join(work, `tofurc-${Math.random().toString(36).slice(2)}`);
  await writeFile(rc, cliConfig);
  try {
    const { stdout, stderr } = await run(tofu, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: home, TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: '1', ...extraEnv },
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function configDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'main.tf'), 'terraform {\n  required_providers {\n    hello = { source = "registry.test/acme/hello", version = "1.0.0" }\n  }\n}\n');
  return dir;
}

test('providerPackageHashes: h1 equals what `tofu providers lock -fs-mirror` writes for each platform; zh is the sha256 of the zip', async () => {
  const mirror = join(work, 'fs-mirror');
  const dir = join(mirror, 'registry.test', 'acme', 'hello');
  await mkdir(dir, { recursive: true });
  const platforms = ['linux_amd64', 'linux_arm64', 'darwin_arm64', 'windows_amd64'];
  const ours = new Set<string>();
  for (const platform of platforms) {
    const [os = '', arch = ''] = platform.split('_');
    const zip = await makeProviderZip({ name: 'hello', version: '1.0.0', os, arch });
    await writeFile(join(dir, `terraform-provider-hello_1.0.0_${platform}.zip`), zip);
    const hashes = await providerPackageHashes(chunksOf(zip), { tmpDir: work });
    assert.is(hashes.zh, `zh:${sha256(zip)}`);
    assert.is(hashes.sha256, sha256(zip));
    assert.is(hashes.size, zip.length);
    assert.match(hashes.h1, /^h1:[A-Za-z0-9+/]{43}=$/);
    ours.add(hashes.h1);
  }
  assert.is(ours.size, platforms.length, 'each platform has its own h1');
  const cwd = await configDir('lock');
  const locked = await runTofu(['providers', 'lock', '-no-color', `-fs-mirror=${mirror}`, ...platforms.map((p) => `-platform=${p}`)], cwd, '');
  assert.is(locked.code, 0, locked.output);
  const lockFile = await readFile(join(cwd, '.terraform.lock.hcl'), 'utf8');
  const theirs = new Set([...lockFile.matchAll(/"(h1:[^"]+)"/g)].map((m) => m[1]));
  assert.equal([...theirs].sort(), [...ours].sort());
});

test("providerPackageHashes: h1 of a zip with directory entries is dirhash.HashZip, which tofu checks a network mirror's h1 against", async () => {
  const zip = await zipWithDirectories();
  const { h1 } = await providerPackageHashes(chunksOf(zip, 13));
  const certs = await createTestCertificates();
  const caFile = join(work, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  // A minimal network mirror (protocol.md §4) whose only hash for the package is `advertised`.
  let advertised = h1;
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    const base = '/mirror/registry.test/acme/hello/';
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === `${base}index.json`) return json({ versions: { '1.0.0': {} } });
    if (req.url === `${base}1.0.0.json`) {
      return json({ archives: { [`${HOST_OS}_${HOST_ARCH}`]: { url: 'hello.zip', hashes: [advertised] } } });
    }
    if (req.url === `${base}hello.zip`) {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
      return res.end(zip);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const rc = `provider_installation {\n  network_mirror {\n    url = "https://127.0.0.1:${port}/mirror/"\n  }\n}\n`;
  try {
    const good = await runTofu(['init', '-backend=false', '-input=false', '-no-color'], await configDir('mirror-good'), rc, { SSL_CERT_FILE: caFile });
    assert.is(good.code, 0, good.output);
    assert.match(good.output, /verified checksum/);
    // Control: the h1 of the same files without the directory entry (what HashDir gives) is refused.
    const withoutDirs = await providerPackageHashes(chunksOf(await zipWithoutDirectoryEntries(zip)));
    assert.is.not(withoutDirs.h1, h1);
    advertised = withoutDirs.h1;
    const bad = await runTofu(['init', '-backend=false', '-input=false', '-no-color'], await configDir('mirror-bad'), rc, { SSL_CERT_FILE: caFile });
    assert.is.not(bad.code, 0, 'tofu must refuse a package whose h1 does not match');
    assert.match(bad.output.replace(/\s+/g, ' '), "provider package doesn't match the expected checksum");
  } finally {
    server.close();
  }
});

/** The same files, without the `docs/` directory entry. */
async function zipWithoutDirectoryEntries(source: Buffer): Promise<Buffer> {
  const path = join(work, 'strip.zip');
  await writeFile(path, source);
  const from = await yauzl.openPromise(path, { lazyEntries: true });
  const to = new yazl.ZipFile();
  for await (const entry of from.eachEntry()) {
    if (entry.fileName.endsWith('/')) continue;
    const content = await readBody((await from.openReadStreamPromise(entry)) as unknown as AsyncIterable<Uint8Array>);
    to.addBuffer(content, entry.fileName, { mtime: entry.getLastModDate(), mode: entry.externalFileAttributes >>> 16 });
  }
  from.close();
  to.end();
  return readBody(to.outputStream as unknown as AsyncIterable<Uint8Array>);
}

test('providerPackageHashes: a body that is not a zip is an InputError; the temporary spool is removed', async () => {
  const tmp = join(work, 'spool');
  await mkdir(tmp, { recursive: true });
  await rejectsWith(providerPackageHashes(chunksOf(Buffer.from('not a zip at all')), { tmpDir: tmp }), 'input');
  assert.equal(await readdir(tmp), []);
});

test('gpg --verify accepts the SHA256SUMS.sig of both stand-ins with the exported public key, and refuses a corrupted one', async () => {
  const gnupgHome = await mkdtemp(join(tmpdir(), 'opendepot-gnupg-'));
  try {
    const gpg = (args: string[]) =>
      run('gpg', ['--batch', '--no-tty', '--homedir', gnupgHome, ...args]).then(
        (r) => ({ code: 0, output: r.stdout + r.stderr }),
        (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
      );
    await writeFile(join(gnupgHome, 'key.asc'), key.publicKeyArmored);
    const imported = await gpg(['--import', join(gnupgHome, 'key.asc')]);
    assert.is(imported.code, 0, imported.output);
    const hashicorp = await startHashicorpReleasesStandin({ signingKey: key });
    const registry = await startProviderRegistryStandin({ signingKey: key });
    try {
      await hashicorp.addRelease('terraform-provider-hello', '1.0.0', { platforms: [{ os: 'linux', arch: 'amd64' }] });
      await registry.addProvider('acme', 'hello', '1.0.0', [{ os: 'linux', arch: 'amd64' }]);
      const urls = [
        [`${hashicorp.url}/terraform-provider-hello/1.0.0/terraform-provider-hello_1.0.0_SHA256SUMS`, '.sig'],
        [`${hashicorp.url}/terraform-provider-hello/1.0.0/terraform-provider-hello_1.0.0_SHA256SUMS`, `.${key.keyId.slice(-8)}.sig`],
        [`${registry.url}/files/acme/hello/1.0.0/terraform-provider-hello_1.0.0_SHA256SUMS`, '.sig'],
      ] as const;
      for (const [sums, suffix] of urls) {
        await writeFile(join(gnupgHome, 'SHA256SUMS'), Buffer.from(await (await fetch(sums)).arrayBuffer()));
        await writeFile(join(gnupgHome, 'SHA256SUMS.sig'), Buffer.from(await (await fetch(`${sums}${suffix}`)).arrayBuffer()));
        const verified = await gpg(['--status-fd', '1', '--verify', join(gnupgHome, 'SHA256SUMS.sig'), join(gnupgHome, 'SHA256SUMS')]);
        assert.is(verified.code, 0, verified.output);
        assert.match(verified.output, `[GNUPG:] VALIDSIG ${key.fingerprint}`);
      }
      await registry.corruptSignature('acme', 'hello', '1.0.0');
      const [sums] = urls[2];
      await writeFile(join(gnupgHome, 'SHA256SUMS.sig'), Buffer.from(await (await fetch(`${sums}.sig`)).arrayBuffer()));
      const refused = await gpg(['--status-fd', '1', '--verify', join(gnupgHome, 'SHA256SUMS.sig'), join(gnupgHome, 'SHA256SUMS')]);
      assert.is.not(refused.code, 0);
      assert.match(refused.output, '[GNUPG:] BADSIG');
    } finally {
      await hashicorp.close();
      await registry.close();
    }
  } finally {
    await rm(gnupgHome, { recursive: true, force: true });
  }
});

test('createSigningKey: an RSA 4096 v4 key, cached (a second call is instant and gives the same key)', async () => {
  const parsed = await readKey({ armoredKey: key.publicKeyArmored });
  assert.is(parsed.keyPacket.version, 4);
  assert.equal(parsed.getAlgorithmInfo(), { algorithm: 'rsaEncryptSign', bits: 4096 });
  assert.is(key.keyId, parsed.getKeyID().toHex().toUpperCase());
  assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
  assert.ok(key.fingerprint.endsWith(key.keyId));
  const started = Date.now();
  const again = await createSigningKey({ name: 'Hash test signer' });
  assert.ok(Date.now() - started < 1000, 'from the cache');
  assert.is(again.keyId, key.keyId);
});

test('makeProviderZip: one executable at the root with mode 0755, no directory entries; .exe on windows', async () => {
  for (const [os, expected] of [
    ['linux', 'terraform-provider-hello_v1.2.3'],
    ['windows', 'terraform-provider-hello_v1.2.3.exe'],
  ] as const) {
    const path = join(work, `layout-${os}.zip`);
    await writeFile(path, await makeProviderZip({ name: 'hello', version: '1.2.3', os, arch: 'amd64' }));
    const zip = await yauzl.openPromise(path, { lazyEntries: true });
    const entries: Array<{ name: string; mode: number }> = [];
    for await (const entry of zip.eachEntry()) entries.push({ name: entry.fileName, mode: entry.externalFileAttributes >>> 16 });
    zip.close();
    assert.equal(entries, [{ name: expected, mode: 0o100755 }]);
  }
});

test('writeProviderZip: a big package of an exact size, hashed while it streams through a source with flat memory', async () => {
  const size = 96 * 1024 * 1024 + 17;
  const path = join(work, 'big.zip');
  const written = await writeProviderZip(path, { name: 'big', version: '1.0.0', os: 'linux', arch: 'amd64', size });
  assert.is(written.size, size);
  assert.is((await stat(path)).size, size);
  const fromFile = await providerPackageHashes(createReadStream(path), { tmpDir: work });
  assert.is(fromFile.sha256, written.sha256);

  // Through the registry source: the stand-in serves it from disk, the source streams and verifies it.
  const gc = globalThis.gc;
  assert.ok(gc, 'run this test with node --expose-gc');
  const registry = await startProviderRegistryStandin({ signingKey: key });
  try {
    await registry.addProvider('acme', 'big', '1.0.0', [{ os: 'linux', arch: 'amd64', size }]);
    const fetched = await createProviderSource('registry', { allowInsecureHttp: true, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } }).fetch(
      providerArchiveSubject({ name: 'big', namespace: 'acme', source: 'registry', registryUrl: registry.url }),
      '1.0.0',
      { os: 'linux', arch: 'amd64' },
    );
    assert.is(fetched.size, size);
    // Live memory (after a full GC, so garbage does not count) sampled every 8 MiB while it streams.
    gc();
    const baseline = liveBytes();
    let peakLive = 0;
    async function* sampled(): AsyncGenerator<Uint8Array> {
      let sinceSample = 0;
      for await (const chunk of fetched.body) {
        sinceSample += chunk.byteLength;
        if (sinceSample >= 8 * 1024 * 1024) {
          sinceSample = 0;
          gc?.();
          peakLive = Math.max(peakLive, liveBytes() - baseline);
        }
        yield chunk;
      }
    }
    const hashes = await providerPackageHashes(sampled(), { tmpDir: work });
    assert.is(hashes.sha256, fetched.expectedSha256);
    assert.is(hashes.size, size);
    assert.is(hashes.h1, fromFile.h1);
    // The stand-in serves from this same process, and its socket buffers count too (seen up to
    // ~26 MiB); holding the package would take more than 96 MiB.
    assert.ok(peakLive < 40 * 1024 * 1024, `live memory grew by ${Math.round(peakLive / 1048576)} MiB while a ${Math.round(size / 1048576)} MiB package streamed`);
  } finally {
    await registry.close();
  }
});

/** Heap and buffer memory in use. */
function liveBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

test.run();
