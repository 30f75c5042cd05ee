/**
 * A Module's life against real components: versionHistoryLimit removes old Versions and their
 * stored archives; a version dropped from the list goes (the Module is mutable); forceSync
 * stores every archive again and resets itself; a Depot never re-adds what the history limit
 * removed; deleting the Module deletes its Versions and every stored archive.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createGitRepo } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';

interface Obj {
  metadata: { name: string; finalizers?: string[] };
  spec: { version?: string; forceSync?: boolean; versions?: { version: string }[] };
  status?: { conditions?: { type: string; status: string; reason: string }[]; storageKey?: string; checksum?: string; lastVerifiedTime?: string; progress?: string };
}

let env: RegistryEnv;
let repoUrl: string;
const ALL = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];
const files = (v: string) => ({ 'main.tf': `output "v" {\n  value = "${v}"\n}\n` });

const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', 'versions', '-n', env.namespace, '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};
const readyVersions = async (module: string, count: number) =>
  eventually(
    `${count} Ready Versions of ${module}`,
    async () => {
      const vs = await versionsOf(module);
      return vs.length === count && vs.every((v) => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? vs : undefined;
    },
    60_000,
  );
const events = async (name: string) => {
  const r = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: { reason: string; count?: number }[] }).items;
};
const module = (versions: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name: 'life' },
  spec: { moduleConfig: { name: 'life', provider: 'aws', repoUrl, ...extra }, versions: versions.map((version) => ({ version })) },
});

test.before(async () => {
  env = await startRegistryEnv();
  repoUrl = (await createGitRepo(join(env.dir, 'repo'), { tags: Object.fromEntries(ALL.map((v) => [`v${v}`, files(v)])) })).url;
});

test.after(async () => {
  await env?.stop();
});

test('versionHistoryLimit keeps the newest versions and deletes the others with their stored archives', async () => {
  await env.apply(module(ALL));
  const all = await readyVersions('life', 4);
  const oldest = all.filter((v) => ['1.0.0', '1.1.0'].includes(v.spec.version!));
  const keys = oldest.map((v) => join(env.storagePath, `${v.status!.storageKey!}.sha256.json`));
  assert.ok(
    keys.every((k) => existsSync(k)),
    'archives stored',
  );
  await env.apply(module(ALL, { versionHistoryLimit: 2 }));
  const kept = await readyVersions('life', 2);
  assert.equal(kept.map((v) => v.spec.version).sort(), ['1.2.0', '1.3.0']);
  await eventually('archives of removed Versions deleted', async () => keys.every((k) => !existsSync(k)), 30_000);
});

test('a version dropped from the list of a mutable Module is removed', async () => {
  await env.apply(module(['1.2.0', '1.3.0']));
  await env.apply(module(['1.3.0']));
  const left = await readyVersions('life', 1);
  assert.is(left[0]!.spec.version, '1.3.0');
});

test('forceSync stores every archive again and resets itself', async () => {
  const [before] = await versionsOf('life');
  const storedBefore = (await events(before!.metadata.name)).find((e) => e.reason === 'ArchiveStored');
  assert.ok(storedBefore, 'stored once');
  const patched = await env.kubectl(['patch', 'module', 'life', '-n', env.namespace, '--type=merge', '-p', '{"spec":{"forceSync":true}}']);
  assert.is(patched.code, 0, patched.stderr);
  await eventually(
    'forceSync reset on the Module and the Version',
    async () => {
      const m = await env.get<Obj>('module', 'life');
      const v = await env.get<Obj>('version', before!.metadata.name);
      return m.spec.forceSync === false && v.spec.forceSync === false ? true : undefined;
    },
    30_000,
  );
  assert.ok((await events('life')).some((e) => e.reason === 'ForceSync'));
  const [after] = await readyVersions('life', 1);
  assert.is(after!.status?.checksum, before!.status?.checksum, 'the same tree gives the same archive');
});

test('a Depot never re-adds versions that the Module history limit removed', async () => {
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Depot',
    metadata: { name: 'limited' },
    spec: { global: { moduleConfig: { versionHistoryLimit: 2 } }, moduleConfigs: [{ name: 'mirrored', provider: 'aws', repoUrl, versionConstraints: '>= 1.0.0' }] },
  });
  const first = await readyVersions('mirrored', 2);
  assert.equal(first.map((v) => v.spec.version).sort(), ['1.2.0', '1.3.0']);
  await env.kubectl(['annotate', '--overwrite', '-n', env.namespace, 'depot', 'limited', 'opendepot.defdev.io/requested-poll=again']);
  await eventually('polled again', async () => (await env.get<{ status?: { lastHandledPollRequest?: string } }>('depot', 'limited')).status?.lastHandledPollRequest === 'again' || undefined, 30_000);
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal((await versionsOf('mirrored')).map((v) => v.spec.version).sort(), ['1.2.0', '1.3.0']);
  const m = await env.get<Obj>('module', 'mirrored');
  assert.equal(
    m.spec.versions!.map((v) => v.version),
    ALL,
    'the list keeps every matching version; the limit decides what is stored',
  );
});

test('deleting a Module deletes its Versions and every stored archive', async () => {
  const [v] = await versionsOf('life');
  const pointer = join(env.storagePath, `${v!.status!.storageKey!}.sha256.json`);
  assert.ok(existsSync(pointer));
  const deleted = await env.kubectl(['delete', 'module', 'life', '-n', env.namespace, '--wait=false']);
  assert.is(deleted.code, 0, deleted.stderr);
  await eventually('the Module gone', async () => ((await env.kubectl(['get', 'module', 'life', '-n', env.namespace])).code !== 0 ? true : undefined), 30_000);
  assert.equal(await versionsOf('life'), []);
  assert.not.ok(existsSync(pointer), 'the stored archive was deleted');
});

test.run();
