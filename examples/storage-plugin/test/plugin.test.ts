/**
 * The WebDAV plugin beyond the conformance suite: what it is made of, start-up checks and
 * credentials, its layout on the server, and how it behaves when the server misbehaves. Against
 * the real `webdav-server` (in its own process), with a misbehaving proxy in front where needed.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION, type ErrorCode, type StorageBackend } from '@opendepot/sdk';
import { chunked, collectBytes, pseudoRandomBytes, sha256Hex } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { type WebDavStorageConfig } from '../src/index.ts';
import { pluginContext } from './support/context.ts';
import { startFaultyProxy, type FaultyProxy } from './support/proxy.ts';
import { startWebDavServer, type RunningWebDav } from './support/webdav.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const CREDENTIALS = { username: 'alice', password: 'Secret123' };

let server: RunningWebDav;
let guarded: RunningWebDav;
let proxy: FaultyProxy;
const opened: StorageBackend[] = [];
let collections = 0;

/** A storage through the plugin, as the host makes it; closed after the file. */
async function open(config: Partial<WebDavStorageConfig>, context = pluginContext()): Promise<StorageBackend> {
  const storage = await plugin.create(config as WebDavStorageConfig, context);
  opened.push(storage);
  return storage;
}

/** A base collection no other test uses. */
function fresh(base: string): string {
  return `${base}t${++collections}/`;
}

/** Awaits `promise`, which must reject with an OpenDepot error of `code`; returns it. */
async function rejects(promise: Promise<unknown>, code: ErrorCode, what: string): Promise<Error & { field?: string; retryAfterMs?: number }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isOpenDepotError(err, code), `${what}: expected code ${code}, got ${String(err)} (code ${(err as { code?: string }).code})`);
    return err as Error & { field?: string };
  }
  assert.unreachable(`${what}: expected a rejection with code ${code}`);
  throw new Error('unreachable');
}

test.before(async () => {
  server = await startWebDavServer();
  guarded = await startWebDavServer({ credentials: CREDENTIALS });
  proxy = await startFaultyProxy(server.url);
});

test.after(async () => {
  for (const storage of opened) await storage.close?.();
  await proxy?.close();
  await server?.stop();
  await guarded?.stop();
});

test('the package default-exports a storage plugin named webdav, for this API version', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.name, 'webdav');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.equal((plugin.configSchema as { required?: string[] }).required, ['url']);
});

test('its source imports nothing of OpenDepot but the public @opendepot/sdk, and it depends on nothing else', async () => {
  const src = join(packageDir, 'src');
  const files = (await readdir(src)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 3);
  for (const file of files) {
    const text = await readFile(join(src, file), 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from|import)\s+'([^']+)'/g)) {
      assert.ok(specifier!.startsWith('./') || specifier!.startsWith('node:') || specifier === '@opendepot/sdk', `${file} imports ${specifier}`);
    }
  }
  const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  assert.is(manifest.dependencies, undefined, 'no runtime dependencies');
  assert.equal(Object.keys(manifest.peerDependencies ?? {}), ['@opendepot/sdk']);
});

test('start-up creates a missing base collection, and refuses a url whose parent is missing or that is a file', async () => {
  await open({ url: `${server.url}made-at-start` }); // no trailing slash: added
  assert.ok((await readdir(server.root)).includes('made-at-start'));

  const orphan = await rejects(open({ url: `${server.url}no/such/collection/` }), 'input', 'a url whose parent is missing');
  assert.is(orphan.field, 'url');
  await writeFile(join(server.root, 'a-file'), 'not a collection');
  const file = await rejects(open({ url: `${server.url}a-file` }), 'input', 'a url that is a file');
  assert.is(file.field, 'url');
  const credentials = await rejects(open({ url: server.url.replace('http://', 'http://bob:pw@') }), 'input', 'a url with credentials');
  assert.is(credentials.field, 'url');
});

test('an unreachable server is a transient error, so the host retries later', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const err = await rejects(open({ url: `http://127.0.0.1:${port}/dav/` }), 'unavailable', 'a closed port');
  assert.match(err.message, /ECONNREFUSED/);
});

test('HTTP Basic authentication with the password from a Secret', async () => {
  const secrets = { 'webdav-credentials/password': CREDENTIALS.password };
  const config = { url: fresh(guarded.url), username: CREDENTIALS.username, passwordSecretRef: { name: 'webdav-credentials', key: 'password' } };
  const storage = await open(config, pluginContext({ secrets }));
  const bytes = Buffer.from('behind a password');
  await storage.put('a/b.txt', chunked(bytes));
  assert.ok((await collectBytes((await storage.get('a/b.txt')).body)).equals(bytes));

  const wrong = await rejects(open(config, pluginContext({ secrets: { 'webdav-credentials/password': 'nope' } })), 'unauthenticated', 'a wrong password');
  assert.is(wrong.field, 'username');
  const missing = await rejects(open(config, pluginContext({ secrets: {} })), 'input', 'a missing Secret key');
  assert.is(missing.field, 'passwordSecretRef');
  const noSecrets = await rejects(open(config, pluginContext()), 'input', 'a host without Secret access');
  assert.is(noSecrets.field, 'passwordSecretRef');
  await rejects(open({ url: guarded.url }), 'unauthenticated', 'no credentials');
});

test('an object is one immutable version named by its checksum; a put retires older versions and abandoned uploads', async () => {
  const writtenAt = 1_750_000_000_000;
  const context = pluginContext();
  context.clock = { now: () => writtenAt };
  const url = fresh(server.url);
  const storage = await open({ url }, context);
  const dir = join(server.root, new URL(url).pathname, 'modules', 'acme', 'vpc.zip.odv');

  await storage.put('modules/acme/vpc.zip', chunked(Buffer.from('first')));
  const abandoned = `tmp-${String(writtenAt - 2 * 3600_000).padStart(13, '0')}-0123456789abcdef`;
  const recent = `tmp-${String(writtenAt - 60_000).padStart(13, '0')}-fedcba9876543210`;
  await writeFile(join(dir, abandoned), 'left by a killed writer');
  await writeFile(join(dir, recent), 'maybe still being written');

  const second = Buffer.from('second');
  const info = await storage.put('modules/acme/vpc.zip', chunked(second));
  const entries = (await readdir(dir)).sort();
  assert.equal(entries, [recent, `v000000000002-${writtenAt}-${entries[1]!.slice(28, 44)}-${sha256Hex(second)}-6`].sort());
  assert.is(info.modifiedAt?.getTime(), writtenAt);
  assert.is((await storage.stat('modules/acme/vpc.zip')).modifiedAt?.getTime(), writtenAt);
});

test("keys are refused with an input error when they end like the layout's own collections", async () => {
  const storage = await open({ url: fresh(server.url) });
  for (const key of ['a.odv/x', 'x.ODT', 'dir/y.odv']) {
    const err = await rejects(storage.put(key, chunked(Buffer.from('x'))), 'input', `put(${key})`);
    assert.is(err.field, 'key');
    await rejects(storage.stat(key), 'input', `stat(${key})`);
  }
});

test("a whole-object read detects content changed behind OpenDepot's back", async () => {
  const url = fresh(server.url);
  const storage = await open({ url });
  const bytes = await pseudoRandomBytes(200_000, { seed: 3 });
  await storage.put('tampered.bin', chunked(bytes));
  const dir = join(server.root, new URL(url).pathname, 'tampered.bin.odv');
  const [version] = await readdir(dir);
  const changed = Buffer.from(bytes);
  changed[100_000] = changed[100_000]! ^ 0xff;
  await writeFile(join(dir, version!), changed);

  await rejects(collectBytes((await storage.get('tampered.bin')).body), 'integrity', 'reading a tampered object');
  // A part of it has no checksum of its own: it is served as stored.
  const part = await collectBytes((await storage.get('tampered.bin', { range: { start: 0, end: 999 } })).body);
  assert.ok(part.equals(bytes.subarray(0, 1000)));
});

test('a server without Range support still gives exactly the bytes asked for', async () => {
  const url = fresh(proxy.url);
  const storage = await open({ url });
  const bytes = await pseudoRandomBytes(300_000, { seed: 4 });
  await storage.put('ranged.bin', chunked(bytes));
  proxy.fault = (method) => (method === 'GET' ? 'drop-range' : undefined);
  try {
    for (const range of [{ start: 1000, end: 1999 }, { start: 299_990 }, { start: 0, end: 0 }]) {
      const part = await collectBytes((await storage.get('ranged.bin', { range })).body);
      assert.ok(part.equals(bytes.subarray(range.start, (range.end ?? bytes.length - 1) + 1)), JSON.stringify(range));
    }
  } finally {
    proxy.fault = () => undefined;
  }
});

test('a download cut short fails instead of ending early', async () => {
  const storage = await open({ url: fresh(proxy.url) });
  await storage.put('cut.bin', chunked(await pseudoRandomBytes(500_000, { seed: 5 })));
  proxy.fault = (method) => (method === 'GET' ? { truncateAfter: 100_000 } : undefined);
  try {
    await rejects(collectBytes((await storage.get('cut.bin')).body), 'unavailable', 'a body cut short');
    await rejects(collectBytes((await storage.get('cut.bin', { range: { start: 10, end: 400_000 } })).body), 'unavailable', 'a ranged body cut short');
  } finally {
    proxy.fault = () => undefined;
  }
});

test("error answers map to the contract's codes, and a failed put leaves nothing visible", async () => {
  const storage = await open({ url: fresh(proxy.url) });
  await storage.put('here.txt', chunked(Buffer.from('here')));
  try {
    proxy.fault = (method) => (method === 'PROPFIND' ? { status: 503, headers: { 'Retry-After': '7' } } : undefined);
    const busy = await rejects(storage.stat('here.txt'), 'unavailable', 'a 503');
    assert.is(busy.retryAfterMs, 7000);
    proxy.fault = (method) => (method === 'PROPFIND' ? { status: 403 } : undefined);
    await rejects(storage.get('here.txt'), 'forbidden', 'a 403');
    proxy.fault = (method) => (method === 'PROPFIND' ? { status: 401 } : undefined);
    await rejects(storage.stat('here.txt'), 'unauthenticated', 'a 401');
    proxy.fault = (method) => (method === 'PUT' ? { status: 500 } : undefined);
    await rejects(storage.put('failed.txt', chunked(Buffer.from('lost'))), 'unavailable', 'a 500 to the upload');
    proxy.fault = (method) => (method === 'MOVE' ? { status: 507 } : undefined);
    await rejects(storage.put('full.txt', chunked(Buffer.from('no room'))), 'unavailable', 'a 507 to the commit');
  } finally {
    proxy.fault = () => undefined;
  }
  await rejects(storage.stat('failed.txt'), 'not_found', 'stat after a failed upload');
  await rejects(storage.stat('full.txt'), 'not_found', 'stat after a failed commit');
  await rejects(storage.get('never.txt'), 'not_found', 'get of a missing key');
});

test('a server that does not answer: metadata requests give up after requestTimeoutSeconds', async () => {
  const storage = await open({ url: fresh(proxy.url), requestTimeoutSeconds: 1 });
  await storage.put('x', chunked(Buffer.from('x')));
  try {
    // stat hangs on its listing; get lists fine, then waits for the download's headers.
    for (const [what, hang, call] of [
      ['stat', 'PROPFIND', () => storage.stat('x')],
      ['get', 'GET', () => storage.get('x')],
    ] as const) {
      proxy.fault = (method) => (method === hang ? 'hang' : undefined);
      const t = performance.now();
      const err = await rejects(call(), 'unavailable', `${what} of a hanging server`);
      const ms = performance.now() - t;
      assert.ok(ms >= 900 && ms < 3000, `${what} gave up after ${ms.toFixed(0)} ms`);
      assert.match(err.message, /within 1 s/);
    }
  } finally {
    proxy.fault = () => undefined;
  }
});

test.run();
