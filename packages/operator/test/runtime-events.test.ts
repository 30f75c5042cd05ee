/**
 * Events in the real kube-apiserver: created with the involved object, reason, type and source;
 * repeats aggregated into one Event with a growing count; a failure to record never throws.
 */
import { CORE_RESOURCES, RESOURCES, createKubeClient, resourceClient, type Version } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventRecorder, type CoreEvent } from '../src/runtime/events.ts';
import { dropNamespace, freshNamespace, versionObject } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'runtime-events');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const versions = resourceClient<Version>(client, RESOURCES.version);
const events = resourceClient<CoreEvent>(client, CORE_RESOURCES.event);

test.after(async () => {
  await client.close();
  await dropNamespace(cp, ns);
});

async function eventsOf(name: string): Promise<CoreEvent[]> {
  return (await events.list(ns, { fieldSelector: `involvedObject.name=${name}` })).items;
}

test('an event names its object, reason, type, message and reporter', async () => {
  const v = await versions.create(versionObject(ns, 'vpc', '1.0.0'));
  const recorder = new EventRecorder({ client, component: 'opendepot-operator', instance: 'operator-0' });
  await recorder.normal(v, 'ArchiveStored', 'stored vpc 1.0.0 (10 bytes)');
  const [e, ...rest] = await eventsOf(v.metadata.name!);
  assert.is(rest.length, 0);
  assert.ok(e);
  assert.is(e.type, 'Normal');
  assert.is(e.reason, 'ArchiveStored');
  assert.is(e.message, 'stored vpc 1.0.0 (10 bytes)');
  assert.is(e.count, 1);
  assert.equal(e.involvedObject, {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Version',
    name: v.metadata.name,
    namespace: ns,
    uid: v.metadata.uid,
    resourceVersion: v.metadata.resourceVersion,
  });
  assert.equal(e.source, { component: 'opendepot-operator', host: 'operator-0' });
  assert.is(e.reportingComponent, 'opendepot-operator');
  assert.is(e.reportingInstance, 'operator-0');
  assert.ok(e.firstTimestamp && e.lastTimestamp);
});

test('repeats bump the count of one Event instead of creating more; different events stay apart', async () => {
  const v = await versions.create(versionObject(ns, 'vpc', '2.0.0'));
  const recorder = new EventRecorder({ client, component: 'opendepot-operator' });
  // Concurrent repeats too: they must not race into two Events.
  await Promise.all([1, 2, 3].map(() => recorder.warning(v, 'SourceUnavailable', 'GitHub answered 503')));
  for (let i = 0; i < 4; i++) await recorder.warning(v, 'SourceUnavailable', 'GitHub answered 503');
  await recorder.warning(v, 'RateLimited', 'GitHub rate limit, retry at 12:00');
  await recorder.normal(v, 'SourceUnavailable', 'GitHub answered 503');
  const list = await eventsOf(v.metadata.name!);
  const summary = list.map((e) => `${e.type} ${e.reason} x${e.count}`).sort();
  assert.equal(summary, ['Normal SourceUnavailable x1', 'Warning RateLimited x1', 'Warning SourceUnavailable x7']);
  const repeated = list.find((e) => e.count === 7)!;
  assert.ok(repeated.lastTimestamp! >= repeated.firstTimestamp!);
});

test('a long message is truncated; an event that cannot be written is logged, not thrown', async () => {
  const v = await versions.create(versionObject(ns, 'vpc', '3.0.0'));
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (_fields: object, message: string) => void warnings.push(message) };
  const recorder = new EventRecorder({ client, component: 'opendepot-operator', logger });
  await recorder.warning(v, 'ScanFailed', 'x'.repeat(5000));
  const [e] = await eventsOf(v.metadata.name!);
  assert.is(e?.message.length, 1024);
  const ghost = { ...v, metadata: { ...v.metadata, namespace: 'no-such-namespace-here', name: 'ghost' } };
  await recorder.warning(ghost, 'ScanFailed', 'nowhere to go'); // resolves
  assert.is(warnings.length, 1);
});

test.run();
