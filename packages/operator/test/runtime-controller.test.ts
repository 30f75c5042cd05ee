/**
 * A controller wired to real informers, and the health endpoint: objects that exist at start
 * are reconciled, spec changes enqueue and status-only changes do not, a secondary kind wakes its
 * owner, failures are retried, and /healthz, /readyz and /metrics tell the truth.
 */
import { RESOURCES, createInformer, createKubeClient, resourceClient, type Module, type Version } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Controller, ownerKeys } from '../src/runtime/controller.ts';
import { operatorReadiness, startHealthServer } from '../src/runtime/health.ts';
import { createRuntimeMetrics } from '../src/runtime/metrics.ts';
import { dropNamespace, freshNamespace, moduleObject, sleep, versionObject, waitUntil } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'runtime-controller');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const modules = resourceClient<Module>(client, RESOURCES.module, { fieldManager: 'runtime-test' });
const versions = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'runtime-test' });
const cleanups: (() => unknown)[] = [];

test.after(async () => {
  for (const c of cleanups.reverse()) await c();
  await client.close();
  await dropNamespace(cp, ns);
});

test('reconciles what exists at start, spec changes and owned Versions; ignores its own status writes; retries failures', async () => {
  const existing = await modules.create(moduleObject(ns, 'existing'));
  const moduleInformer = createInformer<Module>(client, RESOURCES.module, { namespace: ns });
  const versionInformer = createInformer<Version>(client, RESOURCES.version, { namespace: ns });
  const metrics = createRuntimeMetrics({ processMetrics: false });
  const calls: string[] = [];
  let failOnce = true;
  const controller = new Controller<Module>({
    name: 'module',
    informer: moduleInformer,
    watches: [{ informer: versionInformer, map: ownerKeys('Module') }],
    metrics,
    backoff: { baseMs: 50, maxMs: 200 },
    reconcile: async (key) => {
      calls.push(key);
      if (key === `${ns}/flaky` && failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
    },
  });
  cleanups.push(
    () => controller.stop(),
    () => moduleInformer.stop(),
    () => versionInformer.stop(),
  );
  await controller.start();
  await waitUntil('the existing module', () => calls.includes(`${ns}/existing`));
  // Start-up may queue a key more than once (list, then the watch catching up on a loaded
  // machine): let that settle, so what follows counts only the status write's effect.
  await waitUntil('the queue is idle', () => controller.queue.depth === 0 && controller.queue.active === 0);
  await sleep(300);

  calls.length = 0;
  await modules.patchStatus(ns, 'existing', { syncStatus: 'status only' });
  await sleep(500);
  assert.equal(calls, [], 'a status-only change must not enqueue');

  await modules.patch(ns, 'existing', { spec: { versions: [{ version: '9.9.9' }] } });
  await waitUntil('a reconcile after a spec change', () => calls.includes(`${ns}/existing`));

  calls.length = 0;
  await versions.create(versionObject(ns, 'existing', '9.9.9', existing));
  await waitUntil('the owner reconciled after its Version appeared', () => calls.includes(`${ns}/existing`));

  await modules.create(moduleObject(ns, 'flaky'));
  await waitUntil('the retry of flaky', () => calls.filter((k) => k === `${ns}/flaky`).length >= 2, 5_000);
  assert.is(controller.queue.failures(`${ns}/flaky`), 0);

  const text = await metrics.registry.metrics();
  assert.match(text, /opendepot_operator_reconcile_total\{controller="module",result="success"\} \d+/);
  assert.match(text, /opendepot_operator_reconcile_total\{controller="module",result="error"\} 1/);
  assert.match(text, /opendepot_operator_reconcile_errors_total\{controller="module"\} 1/);
  assert.match(text, /opendepot_operator_reconcile_duration_seconds_count\{controller="module"\} \d+/);
  assert.match(text, /opendepot_operator_workqueue_depth\{controller="module"\} 0/);
});

test('/healthz, /readyz (synced informers and a campaigning elector) and /metrics', async () => {
  const informer = createInformer<Module>(client, RESOURCES.module, { namespace: ns });
  const elector = { state: 'idle' as 'idle' | 'standby' | 'leader' | 'stopped' };
  const metrics = createRuntimeMetrics();
  metrics.leader.set(1);
  const server = await startHealthServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, ready: operatorReadiness([informer], elector) });
  cleanups.push(
    () => server.close(),
    () => informer.stop(),
  );
  const get = async (path: string) => {
    const res = await fetch(server.url + path);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };

  assert.is((await get('/healthz')).status, 200);
  assert.is((await get('/readyz')).status, 503, 'not ready before the caches are synced');
  await informer.start();
  assert.is((await get('/readyz')).status, 503, 'not ready while the elector has not started');
  elector.state = 'standby';
  assert.is((await get('/readyz')).status, 200, 'a synced standby is ready');
  elector.state = 'leader';
  assert.is((await get('/readyz')).status, 200);
  elector.state = 'stopped';
  assert.is((await get('/readyz')).status, 503);

  const m = await get('/metrics');
  assert.is(m.status, 200);
  assert.match(m.type ?? '', /text\/plain/);
  assert.match(m.body, /^opendepot_operator_leader 1$/m);
  assert.match(m.body, /opendepot_operator_process_resident_memory_bytes/);
  assert.is((await get('/nope')).status, 404);
  assert.is((await fetch(`${server.url}/healthz`, { method: 'POST' })).status, 405);
});

test.run();
