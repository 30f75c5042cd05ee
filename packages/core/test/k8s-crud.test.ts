/**
 * Typed CRUD against the real kube-apiserver: create/get/find/list, merge patches with a
 * resourceVersion precondition, server-side apply with a field manager (ownership, pruning,
 * conflicts), the status subresource, delete, finalizers, and API failures as SDK errors.
 */
import { isOpenDepotError } from '@opendepot/sdk';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Module, Version } from '../src/crds/index.ts';
import { RESOURCES, createKubeClient, isAlreadyExists, isConflict, kubeReasonOf, kubeStatusOf, resourceClient } from '../src/k8s/index.ts';
import { dropNamespace, freshNamespace, moduleObject } from './k8s-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'k8s-crud');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, userAgent: 'opendepot-test' });
const modules = resourceClient<Module>(client, RESOURCES.module, { fieldManager: 'opendepot-test' });
const versions = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'opendepot-test' });

test.after(async () => {
  await client.close();
  await dropNamespace(cp, ns);
});

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

test('the client reads its kubeconfig', () => {
  assert.is(client.server, cp.server);
  assert.is(client.namespace, 'default');
});

test('create, get, find, list (all namespaces and one, with a label selector)', async () => {
  const m = moduleObject(ns, 'crud-a');
  m.metadata.labels = { team: 'a' };
  const created = await modules.create(m);
  assert.ok(created.metadata.uid);
  assert.is(created.kind, 'Module');
  await modules.create(moduleObject(ns, 'crud-b'));
  assert.is((await modules.get(ns, 'crud-a')).metadata.uid, created.metadata.uid);
  assert.is(await modules.find(ns, 'missing'), undefined);
  const all = await modules.list(ns);
  assert.equal(all.items.map((i) => i.metadata.name).sort(), ['crud-a', 'crud-b']);
  assert.ok(Number(all.resourceVersion) > 0);
  assert.ok(all.items.every((i) => i.apiVersion === 'opendepot.defdev.io/v1alpha1' && i.kind === 'Module'));
  assert.equal(
    (await modules.list(ns, { labelSelector: 'team=a' })).items.map((i) => i.metadata.name),
    ['crud-a'],
  );
  assert.ok(
    (await modules.list()).items.some((i) => i.metadata.namespace === ns),
    'a list across namespaces includes ours',
  );
});

test('API failures are SDK errors with the Kubernetes reason as cause', async () => {
  const missing = await rejects(modules.get(ns, 'nope'));
  assert.ok(isOpenDepotError(missing, 'not_found'), String(missing));
  assert.is(kubeStatusOf(missing), 404);

  const duplicate = await rejects(modules.create(moduleObject(ns, 'crud-a')));
  assert.ok(isOpenDepotError(duplicate, 'conflict'));
  assert.ok(isAlreadyExists(duplicate));
  assert.not.ok(isConflict(duplicate), 'AlreadyExists is not an optimistic-concurrency conflict');

  const bad = moduleObject(ns, 'crud-bad');
  (bad.spec.moduleConfig as { fileFormat?: string }).fileFormat = 'rar';
  const invalid = await rejects(modules.create(bad));
  assert.ok(isOpenDepotError(invalid, 'input'), String(invalid));
  assert.match((invalid as Error).message, /fileFormat/);
  assert.is(kubeReasonOf(invalid), 'Invalid');

  const unreachable = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, requestTimeoutMs: 2_000 });
  await unreachable.close();
  const closed = await rejects(resourceClient(unreachable, RESOURCES.module).list(ns));
  assert.instance(closed, Error);
});

test('a large answer with multi-byte characters split across network chunks decodes intact', async () => {
  const text = 'é€😀'.repeat(20_000); // ~180 KB of UTF-8: many chunks, characters cut at their edges
  await modules.create({ ...moduleObject(ns, 'crud-utf8'), metadata: { name: 'crud-utf8', namespace: ns, annotations: { text } } });
  assert.is((await modules.get(ns, 'crud-utf8')).metadata.annotations?.text, text);
  await modules.delete(ns, 'crud-utf8');
});

test('merge patch: fields merge, arrays replace, and a stale resourceVersion precondition is a ConflictError', async () => {
  const before = await modules.get(ns, 'crud-a');
  const patched = await modules.patch(ns, 'crud-a', { spec: { versions: [{ version: '2.0.0' }], forceSync: true } });
  assert.equal(patched.spec.versions, [{ version: '2.0.0' }]);
  assert.is(patched.spec.moduleConfig.provider, 'aws', 'untouched fields stay');
  const cleared = await modules.patch(ns, 'crud-a', { spec: { forceSync: null } });
  assert.is(cleared.spec.forceSync, undefined, 'null removes a field');
  const stale = await rejects(modules.patch(ns, 'crud-a', { metadata: { labels: { x: 'y' } } }, { resourceVersion: before.metadata.resourceVersion }));
  assert.ok(isConflict(stale), String(stale));
  const fresh = await modules.patch(ns, 'crud-a', { metadata: { labels: { x: 'y' } } }, { resourceVersion: cleared.metadata.resourceVersion });
  assert.is(fresh.metadata.labels?.x, 'y');
});

test('server-side apply: fields owned by the field manager, omitted ones pruned, conflicts need force', async () => {
  const first = await modules.apply(
    { metadata: { name: 'crud-ssa', namespace: ns, labels: { a: '1', b: '2' } }, spec: { moduleConfig: { name: 'crud-ssa', provider: 'aws', repoOwner: 'example' } } },
    { fieldManager: 'applier-one' },
  );
  assert.equal(first.metadata.labels, { a: '1', b: '2' });
  const managers = (first.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields ?? [];
  assert.ok(
    managers.some((f) => f.manager === 'applier-one' && f.operation === 'Apply'),
    JSON.stringify(managers),
  );

  const second = await modules.apply(
    { metadata: { name: 'crud-ssa', namespace: ns, labels: { a: '1' } }, spec: { moduleConfig: { name: 'crud-ssa', provider: 'aws', repoOwner: 'example' } } },
    { fieldManager: 'applier-one' },
  );
  assert.equal(second.metadata.labels, { a: '1' }, 'a field the manager stopped applying is removed');

  const conflict = await rejects(modules.apply({ metadata: { name: 'crud-ssa', namespace: ns, labels: { a: 'other' } } }, { fieldManager: 'applier-two' }));
  assert.ok(isConflict(conflict), `expected a conflict, got ${String(conflict)}`);
  const forced = await modules.apply({ metadata: { name: 'crud-ssa', namespace: ns, labels: { a: 'other' } } }, { fieldManager: 'applier-two', force: true });
  assert.is(forced.metadata.labels?.a, 'other');
  await rejects(Promise.resolve().then(() => resourceClient<Module>(client, RESOURCES.module).apply({ metadata: { name: 'x', namespace: ns } })));
});

test('status goes through the status subresource only', async () => {
  const viaMain = await modules.patch(ns, 'crud-b', { status: { syncStatus: 'ignored' } } as never);
  assert.is(viaMain.status?.syncStatus, undefined, 'the main endpoint ignores status');
  const withStatus = await modules.patchStatus(ns, 'crud-b', { syncStatus: 'ok', versionsSynced: 1, versionsTotal: 1 });
  assert.is(withStatus.status?.syncStatus, 'ok');
  assert.is(withStatus.metadata.generation, viaMain.metadata.generation, 'a status write does not bump the generation');
  const again = await modules.patchStatus(ns, 'crud-b', { syncStatus: null });
  assert.is(again.status?.syncStatus, undefined);
  assert.is(again.status?.versionsSynced, 1);
});

test('finalizers: added once, kept beside others, removed; the last removal lets a deleted object go', async () => {
  const v = await versions.create({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Version',
    metadata: { name: 'crud-v-1.0.0', namespace: ns, finalizers: ['example.com/other'] },
    spec: {
      kind: 'Module',
      ownerName: 'crud-a',
      version: '1.0.0',
      module: { name: 'crud-a', provider: 'aws', repoOwner: 'example' },
      fileFormat: 'zip',
      storageConfig: { filesystem: { path: '/data' } },
    },
  } as Version);
  const stale = v; // its resourceVersion becomes outdated below
  await versions.patch(ns, v.metadata.name!, { metadata: { labels: { touched: 'yes' } } });
  const withOurs = await versions.addFinalizer(stale, 'opendepot.defdev.io/storage');
  assert.equal(withOurs.metadata.finalizers, ['example.com/other', 'opendepot.defdev.io/storage'], 'a stale copy is reread, nothing lost');
  assert.is((await versions.addFinalizer(withOurs, 'opendepot.defdev.io/storage')).metadata.resourceVersion, withOurs.metadata.resourceVersion, 'adding twice writes nothing');

  assert.ok(await versions.delete(ns, v.metadata.name!));
  const deleting = await versions.get(ns, v.metadata.name!);
  assert.ok(deleting.metadata.deletionTimestamp, 'finalizers hold the deleted object');
  const withoutOurs = await versions.removeFinalizer(deleting, 'opendepot.defdev.io/storage');
  assert.equal(withoutOurs?.metadata.finalizers, ['example.com/other']);
  await versions.removeFinalizer(withoutOurs!, 'example.com/other');
  assert.is(await versions.find(ns, v.metadata.name!), undefined, 'gone once the last finalizer is removed');
  assert.is(await versions.delete(ns, v.metadata.name!), false, 'deleting a missing object resolves false');
});

test('delete with a uid precondition refuses to delete a recreated object', async () => {
  const old = await modules.get(ns, 'crud-b');
  await modules.delete(ns, 'crud-b');
  await modules.create(moduleObject(ns, 'crud-b'));
  const err = await rejects(modules.delete(ns, 'crud-b', { preconditions: { uid: old.metadata.uid } }));
  assert.ok(isConflict(err), String(err));
  assert.ok(await modules.find(ns, 'crud-b'));
});

test.run();
