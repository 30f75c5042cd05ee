/**
 * Status and conditions on a real Version in the real kube-apiserver: written through the status
 * subresource with observedGeneration, transition times kept, no-op writes skipped (no new
 * resourceVersion), and a stale cache never causing a wrong skip.
 */
import { RESOURCES, createKubeClient, resourceClient, type Version } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findCondition, markReady, markReconciling, markStalled } from '../src/runtime/conditions.ts';
import { StatusWriter } from '../src/runtime/status.ts';
import { dropNamespace, freshNamespace, sleep, versionObject } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'runtime-status');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const versions = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'opendepot-operator' });

test.after(async () => {
  await client.close();
  await dropNamespace(cp, ns);
});

test('conditions and observedGeneration are written to the status subresource; a repeat writes nothing', async () => {
  const writer = new StatusWriter(versions);
  const v = await versions.create(versionObject(ns, 'eks', '1.0.0'));
  assert.is(v.metadata.generation, 1);

  const first = await writer.write(v, { conditions: markReconciling(v.status?.conditions, { reason: 'Progressing', message: 'fetching', observedGeneration: 1 }), syncStatus: 'fetching' });
  assert.ok(first.written);
  const stored = await versions.get(ns, v.metadata.name!);
  assert.is(stored.status?.observedGeneration, 1);
  assert.is(stored.status?.syncStatus, 'fetching');
  assert.is(findCondition(stored.status?.conditions, 'Reconciling')?.status, 'True');
  assert.is(findCondition(stored.status?.conditions, 'Ready')?.status, 'Unknown');
  assert.is(stored.metadata.generation, 1, 'status writes do not bump the generation');

  const again = await writer.write(stored, { conditions: markReconciling(stored.status?.conditions, { reason: 'Progressing', message: 'fetching', observedGeneration: 1 }), syncStatus: 'fetching' });
  assert.not.ok(again.written, 'an identical status is not written');
  assert.is((await versions.get(ns, v.metadata.name!)).metadata.resourceVersion, stored.metadata.resourceVersion, 'no new resourceVersion');
});

test('lastTransitionTime moves only on a status change; observedGeneration follows spec changes', async () => {
  const writer = new StatusWriter(versions);
  const name = 'eks-2.0.0';
  let v = await versions.create(versionObject(ns, 'eks', '2.0.0'));
  v = (await writer.write(v, { conditions: markStalled(undefined, { reason: 'ChecksumMismatch', message: 'first', observedGeneration: 1 }) })).object;
  const stalledAt = findCondition(v.status?.conditions, 'Ready')!.lastTransitionTime;
  await sleep(1_100); // condition times have whole seconds
  v = (await writer.write(v, { conditions: markStalled(v.status?.conditions, { reason: 'ChecksumMismatch', message: 'second', observedGeneration: 1 }) })).object;
  assert.is(findCondition(v.status?.conditions, 'Ready')!.message, 'second');
  assert.is(findCondition(v.status?.conditions, 'Ready')!.lastTransitionTime, stalledAt, 'same status (False): time kept');

  v = await versions.patch(ns, name, { spec: { immutable: true } });
  assert.is(v.metadata.generation, 2);
  v = (await writer.write(v, { conditions: markReady(v.status?.conditions, { message: 'stored', observedGeneration: 2 }), checksum: 'a'.repeat(64), size: 10 })).object;
  const stored = await versions.get(ns, name);
  assert.is(stored.status?.observedGeneration, 2);
  const ready = findCondition(stored.status?.conditions, 'Ready')!;
  assert.is(ready.status, 'True');
  assert.is(ready.observedGeneration, 2);
  assert.ok(ready.lastTransitionTime > stalledAt, 'False → True moved the time');
  assert.equal(
    stored.status?.conditions?.map((c) => c.type),
    ['Ready'],
    'Stalled is gone once Ready',
  );
  assert.is(stored.status?.checksum, 'a'.repeat(64));
});

test('a stale cached copy never makes the writer skip a needed write', async () => {
  const writer = new StatusWriter(versions);
  const created = await versions.create(versionObject(ns, 'eks', '3.0.0'));
  const cached = (await writer.write(created, { syncStatus: 'X' })).object; // the cache shows X from now on
  await writer.write(cached, { syncStatus: 'A' }); // the server has A; the cache still X
  const result = await writer.write(cached, { syncStatus: 'X' }); // wanted X again: equal to the stale copy
  assert.ok(result.written, 'must write: the server has A');
  assert.is((await versions.get(ns, created.metadata.name!)).status?.syncStatus, 'X');
});

test('current(): a cache showing any version our own writes replaced reads as our latest write', async () => {
  const writer = new StatusWriter(versions);
  const created = await versions.create(versionObject(ns, 'eks', '4.0.0'));
  // Two writes from the same stale copy, as one reconcile makes them (Reconciling, then Ready).
  const first = (await writer.write(created, { syncStatus: 'fetching' })).object;
  const second = (await writer.write(created, { syncStatus: 'stored', checksum: 'a'.repeat(64) })).object;
  for (const lagging of [created, first]) {
    const seen = writer.current(lagging);
    assert.is(seen.metadata.resourceVersion, second.metadata.resourceVersion);
    assert.is(seen.status?.checksum, 'a'.repeat(64));
  }
  // A change made by someone else is newer than anything remembered: the cache wins.
  const foreign = await versions.patch(ns, created.metadata.name!, { metadata: { labels: { team: 'x' } } });
  assert.is(writer.current(foreign), foreign);
});

test.run();
