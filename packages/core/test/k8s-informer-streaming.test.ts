/**
 * Informers with `streamingList` against a real kube-apiserver whose WatchList feature is on (off
 * by default in v1.33, so this file starts its own): the cache fills from one watch that sends
 * its initial events and ends them with a bookmark, without a list request, then follows changes;
 * after 410 Gone a new streaming list emits exactly the changes the informer missed.
 */
import { startControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Module } from '../src/crds/index.ts';
import { RESOURCES, createInformer, createKubeClient, resourceClient, type Informer } from '../src/k8s/index.ts';
import { moduleObject, waitUntil } from './k8s-helpers.ts';
import { startApiProxy } from './k8s-proxy.ts';

const cp = await startControlPlane({ extraApiServerArgs: ['--feature-gates=WatchList=true'] });
const proxy = await startApiProxy(cp);
const direct = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const viaProxy = createKubeClient({ kubeconfigPath: proxy.kubeconfigPath });
const modules = resourceClient<Module>(direct, RESOURCES.module, { fieldManager: 'informer-test' });
const ns = 'default';
const seen: string[] = [];
let informer: Informer<Module>;

test.after(async () => {
  informer?.stop();
  await viaProxy.close();
  await direct.close();
  await proxy.close();
  await cp.stop();
});

const names = () =>
  informer
    .list(ns)
    .map((m) => m.metadata.name!)
    .sort();

test('the cache fills from a watch that sends its initial events (no list request), then follows changes', async () => {
  for (const name of ['a', 'b']) await modules.create(moduleObject(ns, name));
  informer = createInformer<Module>(viaProxy, RESOURCES.module, { namespace: ns, streamingList: true, backoff: { baseMs: 100, maxMs: 1_000 } });
  informer.on('add', (m) => seen.push(`add ${m.metadata.name}`));
  informer.on('update', (m) => seen.push(`update ${m.metadata.name}`));
  informer.on('delete', (m) => seen.push(`delete ${m.metadata.name}`));
  await informer.start();
  assert.ok(informer.synced());
  assert.equal(names(), ['a', 'b'], 'every object is cached when start() resolves');
  assert.equal(seen.sort(), ['add a', 'add b']);
  assert.is(proxy.lists, 0, 'no list request');
  const query = proxy.watches[0]!;
  assert.is(query.get('sendInitialEvents'), 'true');
  assert.is(query.get('resourceVersionMatch'), 'NotOlderThan');
  assert.is(query.get('resourceVersion'), null);
  assert.ok(Number((informer as unknown as { resourceVersion: string }).resourceVersion) > 0, 'the resourceVersion of the bookmark that ends the initial events');
  await modules.create(moduleObject(ns, 'c'));
  await waitUntil('add of c', () => seen.includes('add c'));
  assert.equal(names(), ['a', 'b', 'c']);
  assert.is(proxy.watches.length, 1, 'the same watch goes on after the initial events');
});

test('410 Gone: a new streaming list emits exactly the changes the informer missed', async () => {
  seen.length = 0;
  const watches = proxy.watches.length;
  proxy.freeze(); // the informer sees none of the following through its watch
  await modules.delete(ns, 'a');
  await modules.patch(ns, 'b', { spec: { versions: [{ version: '2.0.0' }] } });
  await modules.create(moduleObject(ns, 'd'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seen, [], 'the frozen watch delivered something');
  assert.is(proxy.injectGone(), 1, 'one open watch to end');
  await waitUntil('the three missed changes', () => seen.length >= 3, 15_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seen.sort(), ['add d', 'delete a', 'update b'], 'exactly the missed changes, nothing for the unchanged c');
  assert.equal(names(), ['b', 'c', 'd']);
  assert.equal(informer.get(ns, 'b')?.spec.versions, [{ version: '2.0.0' }]);
  assert.is(proxy.watches[watches]?.get('sendInitialEvents'), 'true', 'relisted with a streaming list');
  assert.is(proxy.lists, 0, 'and no list request');
});

test.run();
