/** What is particular to the https-dir source, beyond the conformance suite. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError, type ArchiveSubject, type OpenDepotError } from '@opendepot/sdk';
import { collectBytes } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { HttpsDirSource, parseVersionsIndex } from '../src/index.ts';
import { pluginContext } from './support/context.ts';
import { startDirectoryServer } from './support/directory-server.ts';
import { serveVpc, V1 } from './support/fixture.ts';

const server = await startDirectoryServer();
serveVpc(server);
const scratch = await mkdtemp(join(tmpdir(), 'https-dir-source-'));
const caFile = join(scratch, 'ca.pem');
await writeFile(caFile, server.caPem);
const vpc: ArchiveSubject = { kind: 'module', namespace: 'acme', name: 'vpc', system: 'aws' };
const source = () => plugin.create({ baseUrl: server.url, caFile }, pluginContext());

async function rejection(promise: Promise<unknown>): Promise<OpenDepotError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isOpenDepotError(err), `expected an OpenDepot error, got ${String(err)}`);
    return err;
  }
  throw new assert.Assertion({ message: 'expected a rejection', operator: 'rejects', expects: 'rejection', actual: 'success' });
}

test.after(async () => {
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('an http:// baseUrl is refused, naming baseUrl and the switch, unless allowInsecureHttp', async () => {
  const err = await rejection(Promise.resolve().then(() => new HttpsDirSource({ baseUrl: 'http://downloads.example.com/' })));
  assert.is(err.code, 'input');
  assert.is(err.field, 'baseUrl');
  assert.match(err.hint ?? '', /allowInsecureHttp: true/);
  assert.ok(new HttpsDirSource({ baseUrl: 'http://127.0.0.1:1/', allowInsecureHttp: true }));
});

test('a redirect to http:// is refused too', async () => {
  server.redirect('/plain/vpc/index.json', 'http://127.0.0.1:1/acme/vpc/index.json');
  const err = await rejection((await source()).listVersions({ ...vpc, namespace: 'plain' }));
  assert.is(err.code, 'input');
  assert.match(err.message, /http:\/\/ is refused/);
});

test('a redirect within https is followed', async () => {
  server.redirect('/moved/vpc/index.json', `${server.url}acme/vpc/index.json`);
  const versions = await (await source()).listVersions({ ...vpc, namespace: 'moved' });
  assert.equal(
    versions.map((v) => v.version),
    ['1.0.0', '1.1.0', '2.0.0'],
  );
});

test('the index: refs kept, non-versions ignored, sha256 and dates passed on, each version once', async () => {
  const listed = parseVersionsIndex(JSON.stringify({ versions: ['v1.0.0', '1.0.0', 'latest', { version: 'v2.0.0-rc.1', publishedAt: 'nope', sha256: 'short' }, 7] }), 'index');
  assert.equal(listed, [
    { version: '1.0.0', ref: 'v1.0.0' },
    { version: '2.0.0-rc.1', ref: 'v2.0.0-rc.1' },
  ]);
  const err = await rejection(Promise.resolve().then(() => parseVersionsIndex('{"releases": []}', 'https://x/index.json')));
  assert.is(err.code, 'unavailable');
  assert.match(err.message, /no "versions" array/);
});

test('a listed version is fetched from <name>-<ref>.tar.gz and served as <name>-<version>.tar.gz', async () => {
  const archive = await (await source()).fetch(vpc, '1.0.0');
  assert.is(archive.filename, 'vpc-1.0.0.tar.gz');
  assert.is(archive.size, V1.length);
  assert.ok((await collectBytes(archive.body)).equals(V1));
  assert.ok(server.requests.includes('/acme/vpc/vpc-v1.0.0.tar.gz'));
});

test('zip, providers and path tricks are input errors naming the field to fix', async () => {
  const s = await source();
  const zip = await rejection(s.fetch(vpc, '1.0.0', { format: 'zip' }));
  assert.is(zip.field, 'spec.moduleConfig.fileFormat');
  assert.is((await rejection(s.listVersions({ kind: 'provider', name: 'aws', namespace: 'hashicorp' }))).code, 'input');
  for (const namespace of ['..', 'a/b', undefined]) {
    const err = await rejection(s.listVersions({ kind: 'module', name: 'vpc', ...(namespace === undefined ? {} : { namespace }) }));
    assert.is(err.field, 'spec.moduleConfig.repoOwner', String(namespace));
  }
});

test('a private CA without caFile is an UnavailableError hinting at caFile; an unreadable caFile names caFile', async () => {
  const err = await rejection(new HttpsDirSource({ baseUrl: server.url }).listVersions(vpc));
  assert.is(err.code, 'unavailable');
  assert.match(err.hint ?? '', /caFile/);
  const missing = await rejection(Promise.resolve(plugin.create({ baseUrl: server.url, caFile: join(scratch, 'nope.pem') }, pluginContext())));
  assert.is(missing.field, 'caFile');
});

test('an abort while the body stalls ends the read at once', async () => {
  const controller = new AbortController();
  server.stall(true);
  try {
    const archive = await (await source()).fetch(vpc, '1.0.0', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    let failure: unknown;
    try {
      await collectBytes(archive.body);
    } catch (err) {
      failure = err;
    }
    assert.is(failure, controller.signal.reason);
    assert.ok(performance.now() - started < 1000);
  } finally {
    server.stall(false);
  }
});

test.run();
