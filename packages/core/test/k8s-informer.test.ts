/**
 * Informers against the real kube-apiserver: they see adds, updates and deletes of their own
 * namespace, serve reads from memory, and heal on their own after a cut network, a silent
 * (half-open) watch, and 410 Gone, both from the real API server (a stale resourceVersion) and as
 * an ERROR event in the stream; after a relist they emit exactly the changes they missed.
 */
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Module } from '../src/crds/index.ts';
import { RESOURCES, createInformer, createKubeClient, namespacesInformer, resourceClient, type Informer, type InformerOptions } from '../src/k8s/index.ts';
import { dropNamespace, freshNamespace, moduleObject, waitUntil } from './k8s-helpers.ts';
import { startApiProxy, type ApiProxy } from './k8s-proxy.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'k8s-informer');
const other = await freshNamespace(cp, 'k8s-informer-other');
const direct = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const modules = resourceClient<Module>(direct, RESOURCES.module, { fieldManager: 'informer-test' });
const stoppers: (() => void | Promise<void>)[] = [];

interface Seen {
  event: 'add' | 'update' | 'delete';
  name: string;
  old?: string;
}

/** An informer of `ns` (through `proxy` when given) that records what it emits. */
async function watched(options: InformerOptions<Module> & { proxy?: ApiProxy } = {}): Promise<{ informer: Informer<Module>; seen: Seen[] }> {
  const client = options.proxy ? createKubeClient({ kubeconfigPath: options.proxy.kubeconfigPath }) : direct;
  const informer = createInformer<Module>(client, RESOURCES.module, { namespace: ns, backoff: { baseMs: 100, maxMs: 1_000 }, ...options });
  const seen: Seen[] = [];
  informer.on('add', (m) => seen.push({ event: 'add', name: m.metadata.name! }));
  informer.on('update', (m, old) => seen.push({ event: 'update', name: m.metadata.name!, old: old?.metadata.resourceVersion }));
  informer.on('delete', (m) => seen.push({ event: 'delete', name: m.metadata.name! }));
  await informer.start();
  stoppers.push(() => informer.stop());
  if (client !== direct) stoppers.push(() => client.close());
  // start() resolves after the list; the watch opens right after it.
  if (options.proxy) await waitUntil('the watch to open', () => options.proxy!.openWatches() > 0);
  return { informer, seen };
}

const has = (seen: Seen[], event: Seen['event'], name: string) => seen.some((s) => s.event === event && s.name === name);

test.after(async () => {
  for (const stop of stoppers.reverse()) await stop();
  await direct.close();
  await dropNamespace(cp, ns);
  await dropNamespace(cp, other);
  if (process.env.DEBUG_HANDLES) console.log((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles());
});

test('start() resolves with the first list cached; adds, updates and deletes of its namespace arrive, others do not', async () => {
  await modules.create(moduleObject(ns, 'pre-existing'));
  const { informer, seen } = await watched();
  assert.ok(informer.synced());
  assert.is(informer.get(ns, 'pre-existing')?.spec.moduleConfig.name, 'pre-existing', 'the first list is in the cache when start() resolves');
  assert.ok(has(seen, 'add', 'pre-existing'));

  await modules.create(moduleObject(other, 'elsewhere'));
  const created = await modules.create(moduleObject(ns, 'fresh', ['1.0.0']));
  await waitUntil('add of fresh', () => has(seen, 'add', 'fresh'));
  await modules.patch(ns, 'fresh', { spec: { versions: [{ version: '1.0.0' }, { version: '1.1.0' }] } });
  const updated = await waitUntil('update of fresh', () => seen.find((s) => s.event === 'update' && s.name === 'fresh'));
  assert.is(updated.old, created.metadata.resourceVersion, 'the update carries the previous object');
  assert.equal(informer.get(ns, 'fresh')?.spec.versions, [{ version: '1.0.0' }, { version: '1.1.0' }]);
  await modules.delete(ns, 'fresh');
  await waitUntil('delete of fresh', () => has(seen, 'delete', 'fresh'));
  assert.is(informer.get(ns, 'fresh'), undefined);
  assert.not.ok(
    seen.some((s) => s.name === 'elsewhere'),
    'an object of another namespace was seen',
  );
  assert.equal(
    informer.list(ns).map((m) => m.metadata.name),
    ['pre-existing'],
  );
  assert.is(informer.list(other).length, 0);
  assert.is(informer.get(ns, 'pre-existing')?.kind, 'Module', 'listed objects carry their kind');
  assert.not.ok('managedFields' in informer.get(ns, 'pre-existing')!.metadata, 'managedFields are dropped from the cache');
  await modules.delete(ns, 'pre-existing');
  await modules.delete(other, 'elsewhere');
});

test('reads come from memory: a thousand get()/list() calls make no request', async () => {
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  await modules.create(moduleObject(ns, 'cached'));
  const { informer } = await watched({ proxy });
  const lists = proxy.lists;
  const watches = proxy.watches.length;
  for (let i = 0; i < 1000; i++) {
    assert.ok(informer.get(ns, 'cached'));
    informer.list(ns);
  }
  assert.is(proxy.lists, lists);
  assert.is(proxy.watches.length, watches);
  const query = proxy.watches.at(-1)!;
  assert.is(query.get('allowWatchBookmarks'), 'true');
  assert.ok(Number(query.get('resourceVersion')) > 0, 'the watch resumes from the list resourceVersion');
  assert.ok(Number(query.get('timeoutSeconds')) >= 240, 'the server ends each watch after a while');
  await modules.delete(ns, 'cached');
});

test('a cut network: the watch is restarted with backoff and resumes from its resourceVersion, missing nothing', async () => {
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const { informer, seen } = await watched({ proxy });
  const lists = proxy.lists;
  const watches = proxy.watches.length;
  const resumeFrom = proxy.watches.at(-1)!.get('resourceVersion');
  proxy.cut();
  await modules.create(moduleObject(ns, 'during-cut'));
  await new Promise((r) => setTimeout(r, 800)); // a few failed reconnects
  assert.not.ok(has(seen, 'add', 'during-cut'));
  proxy.restore();
  await waitUntil('add of during-cut after the network is back', () => has(seen, 'add', 'during-cut'), 15_000);
  assert.ok(informer.get(ns, 'during-cut'));
  assert.ok(proxy.watches.length > watches, 'a new watch was opened');
  assert.is(proxy.watches[watches]!.get('resourceVersion'), resumeFrom, 'the new watch resumes where the old one stopped');
  assert.is(proxy.lists, lists, 'no relist was needed');
  await modules.delete(ns, 'during-cut');
});

test('a silent watch (frozen connection) is restarted by the watchdog', async () => {
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const { seen } = await watched({ proxy, silenceTimeoutMs: 1_500, watchTimeoutSeconds: 600 });
  const watches = proxy.watches.length;
  proxy.freeze();
  const began = Date.now();
  await modules.create(moduleObject(ns, 'behind-frozen'));
  await waitUntil('add of behind-frozen through a new watch', () => has(seen, 'add', 'behind-frozen'), 10_000);
  assert.ok(Date.now() - began >= 1_000, 'seen before the watchdog could fire: the freeze did not work');
  assert.ok(proxy.watches.length > watches, 'the watchdog opened a new watch');
  await modules.delete(ns, 'behind-frozen');
});

test('an idle watch is ended by the API server at its own timeout and resumed quietly: no warning, nothing missed', async () => {
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const warnings: string[] = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: (_: object, m: string) => void warnings.push(m), error: (_: object, m: string) => void warnings.push(m) };
  const { seen } = await watched({ proxy, watchTimeoutSeconds: 2, logger });
  const watches = proxy.watches.length;
  // Idle for three of the server's timeouts: each watch ends on the server's clock, not a watchdog's.
  await new Promise((r) => setTimeout(r, 7_000));
  assert.ok(proxy.watches.length >= watches + 2, `the server ended idle watches and they were resumed (${proxy.watches.length - watches} new)`);
  assert.equal(warnings, [], 'an idle watch is not a problem');
  await modules.create(moduleObject(ns, 'after-idle'));
  await waitUntil('add of after-idle', () => has(seen, 'add', 'after-idle'), 10_000);
  await modules.delete(ns, 'after-idle');
});

test('namespacesInformer: exactly the namespaces named, each watched on its own, seen as one', async () => {
  const third = await freshNamespace(cp, 'k8s-informer-third');
  stoppers.push(() => dropNamespace(cp, third));
  const made: string[] = [];
  const informer = namespacesInformer<Module>([ns, other, ns], (namespace) => {
    made.push(namespace);
    return createInformer<Module>(direct, RESOURCES.module, { namespace });
  });
  assert.equal(made, [ns, other], 'one informer per namespace, duplicates dropped');
  const added: string[] = [];
  const off = informer.on('add', (m) => added.push(`${m.metadata.namespace}/${m.metadata.name}`));
  await informer.start();
  stoppers.push(() => informer.stop());
  assert.ok(informer.synced());
  for (const namespace of [ns, other, third]) await modules.create(moduleObject(namespace, 'multi'));
  await waitUntil('adds of both watched namespaces', () => added.includes(`${ns}/multi`) && added.includes(`${other}/multi`), 10_000);
  assert.is(informer.get(other, 'multi')?.metadata.namespace, other);
  assert.is(informer.get(third, 'multi'), undefined, 'a namespace not named is not watched');
  assert.ok(informer.list().every((m) => m.metadata.namespace !== third));
  assert.equal(
    informer.list(other).map((m) => m.metadata.name),
    ['multi'],
  );
  off();
  for (const namespace of [ns, other, third]) await modules.delete(namespace, 'multi');
  const single = createInformer<Module>(direct, RESOURCES.module, { namespace: ns });
  assert.is(
    namespacesInformer<Module>([ns], () => single),
    single,
    'one namespace: that informer itself',
  );
});

/** Freezes the informer's view, changes a, b and c behind its back, then runs `gone`. */
async function missedChanges(prefix: string, gone: (proxy: ApiProxy) => void | Promise<void>) {
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const n = (name: string) => `${prefix}-${name}`;
  await modules.create(moduleObject(ns, n('to-delete')));
  await modules.create(moduleObject(ns, n('to-update')));
  await modules.create(moduleObject(ns, n('unchanged')));
  const { informer, seen } = await watched({ proxy });
  seen.length = 0;
  const lists = proxy.lists;
  proxy.freeze(); // the informer sees none of the following through its watch
  await modules.delete(ns, n('to-delete'));
  await modules.patch(ns, n('to-update'), { spec: { versions: [{ version: '2.0.0' }] } });
  await modules.create(moduleObject(ns, n('to-add')));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(
    seen.filter((s) => s.name.startsWith(prefix)),
    [],
    'the frozen watch delivered something',
  );
  await gone(proxy);
  await waitUntil('the three missed changes', () => seen.filter((s) => s.name.startsWith(prefix)).length >= 3, 15_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(proxy.lists > lists, 'the informer relisted');
  assert.equal(
    seen
      .filter((s) => s.name.startsWith(prefix))
      .map((s) => `${s.event} ${s.name}`)
      .sort(),
    [`add ${n('to-add')}`, `delete ${n('to-delete')}`, `update ${n('to-update')}`],
    'exactly the missed changes are emitted, nothing for the unchanged object',
  );
  assert.equal(informer.get(ns, n('to-update'))?.spec.versions, [{ version: '2.0.0' }]);
  assert.equal(
    informer
      .list(ns)
      .map((m) => m.metadata.name)
      .filter((name) => name!.startsWith(prefix))
      .sort(),
    [n('to-add'), n('to-update'), n('unchanged')],
  );
  for (const name of ['to-add', 'to-update', 'unchanged']) await modules.delete(ns, n(name));
}

test('410 Gone from the real API server (watch from a stale resourceVersion): relist and emit the differences', async () => {
  await missedChanges('real', async (proxy) => {
    const watches = proxy.watches.length;
    proxy.staleNextWatch();
    proxy.cut(); // ends the frozen watch; the next one goes out with resourceVersion=1
    proxy.restore();
    await waitUntil('the stale watch', () => proxy.watches.length > watches && proxy.watches[watches], 10_000);
    assert.is(proxy.watches[watches]!.get('resourceVersion'), '1');
  });
});

test('410 Gone as an ERROR event in the watch stream: relist and emit the differences', async () => {
  await missedChanges('event', (proxy) => {
    assert.is(proxy.injectGone(), 1, 'one open watch to end');
  });
});

test('streamingList on an API server whose WatchList feature is off (the default of v1.33): it lists instead', async () => {
  await modules.create(moduleObject(ns, 'listed'));
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const { informer } = await watched({ proxy, streamingList: true });
  assert.ok(informer.get(ns, 'listed'));
  assert.is(proxy.watches[0]?.get('sendInitialEvents'), 'true', 'it asked for a streaming list first');
  assert.is(proxy.lists, 1, 'then listed');
  await modules.delete(ns, 'listed');
});

test('resync re-emits every cached object as an update of itself', async () => {
  await modules.create(moduleObject(ns, 'resynced'));
  const { seen } = await watched({ resyncMs: 200 });
  const resyncs = await waitUntil('two resyncs', () => {
    const r = seen.filter((s) => s.event === 'update' && s.name === 'resynced');
    return r.length >= 2 && r;
  });
  assert.ok(resyncs.length >= 2);
  await modules.delete(ns, 'resynced');
});

test('listPageSize: pages of one still list every object; a transform shapes what is cached and emitted', async () => {
  const names = ['paged-a', 'paged-b', 'paged-c'];
  for (const name of names) await modules.create({ ...moduleObject(ns, name), metadata: { name, namespace: ns, annotations: { big: 'x'.repeat(1000) } } });
  const proxy = await startApiProxy(cp);
  stoppers.push(() => proxy.close());
  const transform = (m: Module): Module => ({ ...m, metadata: { name: m.metadata.name, namespace: m.metadata.namespace, resourceVersion: m.metadata.resourceVersion } });
  const { informer, seen } = await watched({ proxy, listPageSize: 1, transform });
  assert.equal(
    informer
      .list(ns)
      .map((m) => m.metadata.name)
      .sort(),
    names,
  );
  assert.ok(proxy.lists >= names.length, `one list request per object, saw ${proxy.lists}`);
  assert.not.ok(
    informer.list(ns).some((m) => 'annotations' in m.metadata),
    'the transform ran before caching',
  );
  assert.ok(names.every((name) => has(seen, 'add', name)));
  for (const name of names) await modules.delete(ns, name);
});

test('stop() ends the watch; the cache keeps its content and emits nothing more', async () => {
  const { informer, seen } = await watched();
  informer.stop();
  seen.length = 0;
  await modules.create(moduleObject(ns, 'after-stop'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(seen, []);
  assert.is(informer.get(ns, 'after-stop'), undefined);
  await modules.delete(ns, 'after-stop');
});

test.run();
