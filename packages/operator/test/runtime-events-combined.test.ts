/**
 * Issue 10 §2, Events: a Module with 2,000 Versions once wrote 2,059 Events. Like Kubernetes'
 * EventAggregator, similar events (same namespace, kind, type, reason) about many objects are
 * folded into one combined Event with a count, past the first 10. Real kube-apiserver.
 */
import { CORE_RESOURCES, createKubeClient, resourceClient, type Version } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMBINED_PREFIX, EventRecorder, type CoreEvent } from '../src/runtime/events.ts';
import { dropNamespace, freshNamespace, versionObject } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'runtime-events-combined');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const events = resourceClient<CoreEvent>(client, CORE_RESOURCES.event);

test.after(async () => {
  await client.close();
  await dropNamespace(cp, ns);
});

/** A Version as the informer would hold it (Events do not need the object to exist). */
function version(i: number): Version {
  const v = versionObject(ns, 'big', `1.0.${i}`);
  v.metadata.uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return v;
}

test('2,000 Versions each storing their archive: 10 Events of their own, then one combined Event counting the rest', async () => {
  const recorder = new EventRecorder({ client, component: 'opendepot-operator', instance: 'operator-0' });
  await Promise.all(Array.from({ length: 2_000 }, (_, i) => recorder.normal(version(i), 'ArchiveStored', `stored 1.0.${i} (10 bytes, sha256 ${i})`)));
  // A repeat of one of the first ten still bumps its own Event.
  await recorder.normal(version(0), 'ArchiveStored', 'stored 1.0.0 (10 bytes, sha256 0)');
  // Another reason is counted on its own.
  await recorder.warning(version(1), 'SourceUnavailable', 'GitHub answered 503');
  const list = (await events.list(ns)).items;
  assert.ok(list.length <= 12, `${list.length} Events`);
  const stored = list.filter((e) => e.reason === 'ArchiveStored');
  assert.is(stored.length, 11);
  const combined = stored.filter((e) => e.message.startsWith(COMBINED_PREFIX));
  assert.is(combined.length, 1);
  assert.is(combined[0]!.count, 1_990);
  assert.is(
    stored.reduce((n, e) => n + (e.count ?? 0), 0),
    2_001,
  );
  assert.is(list.filter((e) => e.reason === 'SourceUnavailable').length, 1);
});

test.run();
