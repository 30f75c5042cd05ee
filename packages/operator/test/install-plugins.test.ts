/**
 * install-plugins.js for real: `pnpm pack` of the WebDAV example plugin and of its peer
 * @opendepot/sdk, served by a stand-in npm registry (packuments and tarballs in the real
 * registry's shapes), installed with the real npm into a prefix directory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNpmRegistryStandin } from '@opendepot/testbed';
import { parseArgs, parsePinned, sha512Integrity, UsageError } from '../src/install-plugins.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(root, 'packages/operator/src/install-plugins.ts');
const WEBDAV = '@opendepot-example/storage-webdav';

const work = await mkdtemp(join(tmpdir(), 'install-plugins-test-'));

function run(command: string, args: string[], cwd = root): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const installPlugins = (args: string[]) => run(process.execPath, ['--conditions=opendepot-source', CLI, ...args]);

// `pnpm pack` of the two packages (their dist is built: the test command runs tsc -b first), served like the npm registry.
const registry = await startNpmRegistryStandin({ packages: ['examples/storage-plugin', 'packages/sdk'] });
const webdav = registry.package(WEBDAV);
const sdk = registry.package('@opendepot/sdk');
assert.equal(webdav.manifest.peerDependencies, { '@opendepot/sdk': '^0.1.0' });
assert.is(webdav.integrity, sha512Integrity(webdav.bytes), 'the stand-in serves the integrity npm computes');

test('installs a pinned plugin and its peer @opendepot/sdk from the registry; the plugin resolves from the prefix', async () => {
  const prefix = join(work, 'plugins-ok');
  const result = await installPlugins(['--prefix', prefix, '--registry', registry.url, `${WEBDAV}@${webdav.version}=${webdav.integrity}`]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, `installed ${WEBDAV}@0.1.0`);
  const installed = JSON.parse(await readFile(join(prefix, 'node_modules', WEBDAV, 'package.json'), 'utf8')) as { version: string };
  assert.is(installed.version, webdav.version);
  // The peer came from the same registry (npm read its packument and fetched its tarball).
  assert.ok(existsSync(join(prefix, 'node_modules/@opendepot/sdk/package.json')), 'the peer @opendepot/sdk is installed');
  assert.ok(registry.requests.includes('/@opendepot/sdk'), `the sdk's packument was asked for: ${registry.requests.join(' ')}`);
  // Resolved and imported from the prefix the way a host does (Node's resolution, no source condition).
  const script = `const url = import.meta.resolve(${JSON.stringify(WEBDAV)}); const m = await import(url);
    console.log(JSON.stringify({ url, kind: m.default.kind, name: m.default.name }));`;
  const loaded = await run(process.execPath, ['--input-type=module', '-e', script], prefix);
  assert.is(loaded.code, 0, loaded.stderr);
  const { url, kind, name } = JSON.parse(loaded.stdout) as { url: string; kind: string; name: string };
  assert.ok(url.startsWith(`file://${prefix}/node_modules/${WEBDAV}/`), url);
  assert.equal({ kind, name }, { kind: 'storage', name: 'webdav' });
});

test('a tarball with another integrity is refused, naming the package and both integrities; nothing is installed', async () => {
  const prefix = join(work, 'plugins-refused');
  await mkdir(prefix);
  const pinned = sha512Integrity(Buffer.from('some other tarball'));
  const result = await installPlugins(['--prefix', prefix, '--registry', registry.url, `@opendepot/sdk@${sdk.version}=${sdk.integrity}`, `${WEBDAV}@${webdav.version}=${pinned}`]);
  assert.is(result.code, 1, result.stdout + result.stderr);
  assert.ok(result.stderr.includes(`${WEBDAV}@${webdav.version}`), result.stderr);
  assert.ok(result.stderr.includes(pinned), 'names the pinned integrity');
  assert.ok(result.stderr.includes(webdav.integrity), 'names the actual integrity');
  assert.equal(await readdir(prefix), [], 'nothing is installed, not even the package that matched');
});

test('no arguments, a range, or a non-SHA-512 integrity: usage and exit 2, without fetching', async () => {
  const before = registry.requests.length;
  const none = await installPlugins([]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /Usage: node install-plugins\.js --prefix DIR --registry URL <name>@<version>=<integrity>/);
  const help = await installPlugins(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^Usage: /);
  const range = await installPlugins(['--prefix', join(work, 'x'), '--registry', registry.url, `${WEBDAV}@^0.1.0=${webdav.integrity}`]);
  assert.is(range.code, 2);
  assert.match(range.stderr, 'is not an exact version');
  assert.is(registry.requests.length, before);
  assert.ok(!existsSync(join(work, 'x')));
});

test('parsePinned and parseArgs', () => {
  const integrity = sha512Integrity(Buffer.from('x'));
  assert.equal(parsePinned(`@a/b@1.2.3=${integrity}`), { name: '@a/b', version: '1.2.3', integrity });
  assert.equal(parsePinned(`plain@1.0.0-rc.1=${integrity}`), { name: 'plain', version: '1.0.0-rc.1', integrity });
  assert.throws(
    () => parsePinned(`@a/b@1.2.3=sha1-${'A'.repeat(27)}=`),
    (e: unknown) => e instanceof UsageError && /SHA-512/.test(e.message),
  );
  assert.throws(
    () => parsePinned('@a/b=sha512-x'),
    (e: unknown) => e instanceof UsageError,
  );
  assert.throws(
    () => parsePinned('@a/b@1.2.3'),
    (e: unknown) => e instanceof UsageError,
  );
  assert.is(parseArgs(['-h']), undefined);
  assert.equal(parseArgs([`--prefix=/p`, '--registry', 'https://r.example/', `a@1.0.0=${integrity}`]), {
    prefix: '/p',
    registry: 'https://r.example/',
    packages: [{ name: 'a', version: '1.0.0', integrity }],
  });
  assert.throws(() => parseArgs(['--prefix', '/p', '--registry', 'ftp://x']), /not an http\(s\) URL/);
  assert.throws(() => parseArgs(['--prefix', '/p', '--registry', 'https://r/', `a@1.0.0=${integrity}`, `a@1.0.1=${integrity}`]), /named twice/);
});

test.after(async () => {
  await registry.close();
  await rm(work, { recursive: true, force: true });
});

test.run();
