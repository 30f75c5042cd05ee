/**
 * Stored addresses are derived from spec and namespace, never taken from status (issue 10 §3):
 * a Version in one namespace whose status is patched (status subresource, real API server) to
 * name another namespace's archive can neither be served as that archive nor delete it; and a
 * Version deleted after its status lost its key still deletes its own object.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { createGitRepo } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { moduleFiles, ready, type Obj } from './support/resources.ts';

type VersionObj = Obj & { metadata: { name: string; namespace: string } };

let env: RegistryEnv;
let caPem = '';
let victimNs = '';
let ghostNs = '';
let watchGhost: Record<string, unknown>;

const moduleManifest = (name: string, repoUrl: string) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl }, versions: [{ version: '1.0.0' }] },
});

const kubectlOk = async (args: string[], input?: string) => {
  const r = await env.kubectl(args, input);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const readyVersion = (ns: string, module: string) =>
  eventually(`the Ready Version of ${ns}/${module}`, async () => {
    const out = await kubectlOk(['get', 'versions', '-n', ns, '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
    const [v] = (JSON.parse(out) as { items: VersionObj[] }).items;
    return v && ready(v) ? v : undefined;
  });

const pointerOf = (key: string) => join(env.storagePath, `${key}.sha256.json`);

/** GET of a module archive through the server: status and body. */
function getArchive(ns: string, module: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${env.server.listening.url}/opendepot/modules/v1/${ns}/${module}/aws/1.0.0/archive.zip`, { ca: caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const moduleGone = (ns: string, name: string) => eventually(`Module ${ns}/${name} gone`, async () => ((await env.kubectl(['get', 'module', name, '-n', ns])).code !== 0 ? true : undefined));

test.before(async () => {
  env = await startRegistryEnv({ otherNamespace: true });
  victimNs = env.namespace;
  ghostNs = env.otherNamespace!;
  watchGhost = { operator: { watchNamespaces: [ghostNs] } };
  caPem = await readFile(env.caFile, 'utf8');
  const victimRepo = await createGitRepo(join(env.dir, 'victim-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'the victim namespace') } });
  const ghostRepo = await createGitRepo(join(env.dir, 'ghost-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'the ghost namespace') } });
  await kubectlOk(['apply', '-n', victimNs, '-f', '-'], JSON.stringify(moduleManifest('shared', victimRepo.url)));
  await readyVersion(victimNs, 'shared');
  // The operator watches one namespace at a time (with several it would watch the whole shared control plane).
  await env.restartOperator(watchGhost);
  await kubectlOk(['apply', '-n', ghostNs, '-f', '-'], JSON.stringify(moduleManifest('ghost', ghostRepo.url)));
  await kubectlOk(['apply', '-n', ghostNs, '-f', '-'], JSON.stringify(moduleManifest('keyless', ghostRepo.url)));
});

test.after(async () => {
  await env?.stop();
});

test("a ghost Version whose status names another namespace's archive is not served as it, and deleting it leaves that archive in place", async () => {
  const victim = await readyVersion(victimNs, 'shared');
  const ghost = await readyVersion(ghostNs, 'ghost');
  const victimKey = victim.status!.storageKey!;
  const ghostKey = ghost.status!.storageKey!;
  assert.ok(victimKey.startsWith(`modules/${victimNs}/`) && ghostKey.startsWith(`modules/${ghostNs}/`));
  const victimBytes = await getArchive(victimNs, 'shared');
  assert.is(victimBytes.status, 200);
  assert.ok(existsSync(pointerOf(victimKey)));

  // With the operator stopped, nothing repairs the status: the server and then the finalizer meet it as patched.
  await env.restartOperator(watchGhost, async () => {
    const patch = { status: { storageKey: victimKey, checksum: victim.status!.checksum, size: victim.status!.size } };
    await kubectlOk(['patch', 'version', ghost.metadata.name, '-n', ghostNs, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]);
    await eventually('the server saw the patched status', async () => ((await getArchive(ghostNs, 'ghost')).status !== 200 ? true : undefined), 10_000).catch(() => undefined);
    const served = await getArchive(ghostNs, 'ghost');
    assert.is.not(served.body.toString('latin1'), victimBytes.body.toString('latin1'), "the victim's archive was served under the ghost's name");
    assert.is(served.status, 409, `the ghost is refused while its status names a foreign key: ${served.body.toString()}`);
    await kubectlOk(['delete', 'module', 'ghost', '-n', ghostNs, '--wait=false']);
  });
  await moduleGone(ghostNs, 'ghost');

  assert.ok(existsSync(pointerOf(victimKey)), "the victim's archive is still stored");
  assert.not.ok(existsSync(pointerOf(ghostKey)), "the ghost's own archive (its derived key) was deleted");
  const after = await getArchive(victimNs, 'shared');
  assert.is(after.status, 200);
  assert.ok(after.body.equals(victimBytes.body), "the victim's archive is still served, unchanged");
  const events = JSON.parse(await kubectlOk(['get', 'events', '-n', ghostNs, '-o', 'json'])) as { items: { reason: string; message: string }[] };
  const ignored = events.items.find((e) => e.reason === 'StorageKeyIgnored');
  assert.ok(ignored, 'the foreign key is reported with an Event');
  assert.match(ignored!.message, victimKey);
  assert.ok(
    env.logs.some((l) => l.msg === 'Version is not served: its status names a storage key that its spec and namespace do not derive' && l.storageKey === victimKey),
    'the server logged the refusal',
  );
});

test('a Version deleted after its status lost its storage key still deletes its own archive', async () => {
  const v = await readyVersion(ghostNs, 'keyless');
  const key = v.status!.storageKey!;
  assert.ok(existsSync(pointerOf(key)));
  await env.restartOperator(watchGhost, async () => {
    await kubectlOk(['patch', 'version', v.metadata.name, '-n', ghostNs, '--subresource=status', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/status/storageKey' }])]);
    const patched = JSON.parse(await kubectlOk(['get', 'version', v.metadata.name, '-n', ghostNs, '-o', 'json'])) as VersionObj;
    assert.is(patched.status?.storageKey, undefined);
    await kubectlOk(['delete', 'module', 'keyless', '-n', ghostNs, '--wait=false']);
  });
  await moduleGone(ghostNs, 'keyless');
  assert.not.ok(existsSync(pointerOf(key)), 'the archive at the derived key was deleted, not orphaned');
});

test('a restarted operator removes what a killed one left: storage temporaries and spool directories', async () => {
  // What a kill -9 leaves (see packages/operator/test/interrupted-writes.test.ts for a real kill):
  // a temporary file beside an object, a blob no pointer names, and a spool directory of a dead process.
  const v = await readyVersion(victimNs, 'shared');
  const dir = join(env.storagePath, v.status!.storageKey!, '..');
  const name = v.status!.storageKey!.split('/').pop()!;
  const stale = [`${name}.00000000deadbeef.tmp`, `${name}.00000000deadbeef.blob`];
  const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
  for (const file of stale) {
    await writeFile(join(dir, file), 'partial');
    await utimes(join(dir, file), hourAgo, hourAgo);
  }
  const spoolRoot = join(env.dir, 'spool');
  const deadSpool = join(spoolRoot, '2147483646-0000dead');
  await mkdir(join(deadSpool, 'opendepot-fetch-x'), { recursive: true });
  await writeFile(join(deadSpool, 'opendepot-fetch-x', 'archive.zip'), Buffer.alloc(1024));
  await env.restartOperator(watchGhost);
  await eventually('the storage temporaries swept', async () => ((await readdir(dir)).some((f) => stale.includes(f)) ? undefined : true), 30_000);
  assert.not.ok((await readdir(spoolRoot)).includes('2147483646-0000dead'), "the dead operator's spool is gone");
  assert.ok(existsSync(pointerOf(v.status!.storageKey!)), 'the object itself stays');
  assert.is((await getArchive(victimNs, 'shared')).status, 200);
});

test.run();
