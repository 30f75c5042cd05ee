/**
 * Leader election with two electors on one Lease in the real kube-apiserver: only one leads at
 * any moment; on release the standby takes over at once; when the leader's API access dies it
 * steps down before the lease expires, and the standby takes over after expiry.
 */
import { CORE_RESOURCES, createKubeClient, resourceClient } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeaderElector, type Lease } from '../src/runtime/leader-election.ts';
import { dropNamespace, freshNamespace, sleep, waitUntil } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'runtime-leader');
const observer = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const leases = resourceClient<Lease>(observer, CORE_RESOURCES.lease);
const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

test.after(async () => {
  await observer.close();
  await dropNamespace(cp, ns);
});

/** An elector with its own client, recording its callbacks. */
function elector(name: string, identity: string) {
  const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, requestTimeoutMs: 1_000 });
  const log: string[] = [];
  const e = new LeaderElector({
    client,
    namespace: ns,
    name,
    identity,
    ...timing,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: (why) => log.push(`stopped:${why}`),
  });
  return { e, client, log };
}

/** Samples both electors until `done`, failing if both ever lead at once. */
function neverBoth(a: LeaderElector, b: LeaderElector): { stop: () => void; samples: () => number } {
  let samples = 0;
  let both = false;
  const timer = setInterval(() => {
    samples++;
    if (a.isLeader() && b.isLeader()) both = true;
  }, 10);
  return {
    samples: () => samples,
    stop: () => {
      clearInterval(timer);
      assert.not.ok(both, 'both electors led at the same time');
    },
  };
}

test('one leads, the other waits; on release the standby takes over at once', async () => {
  const a = elector('release', 'replica-a');
  const b = elector('release', 'replica-b');
  a.e.start();
  await a.e.whenLeading();
  b.e.start();
  const watch = neverBoth(a.e, b.e);
  await sleep(timing.leaseDurationMs + 1_000); // longer than a lease: renewals keep it
  assert.ok(a.e.isLeader());
  assert.is(b.e.state, 'standby');
  assert.is(b.e.leader, 'replica-a', 'the standby knows who leads');
  const held = await leases.get(ns, 'release');
  assert.is(held.spec?.holderIdentity, 'replica-a');
  assert.is(held.spec?.leaseDurationSeconds, 3);
  assert.ok(held.spec?.renewTime && /\.\d{6}Z$/.test(held.spec.renewTime), `renewTime is a MicroTime: ${held.spec?.renewTime}`);

  const stoppedAt = Date.now();
  await a.e.stop();
  assert.equal(a.log, ['started', 'stopped:released']);
  await waitUntil('b to lead', () => b.e.isLeader(), 5_000);
  assert.ok(Date.now() - stoppedAt < timing.leaseDurationMs, `took ${Date.now() - stoppedAt} ms: a released lease must not need to expire`);
  const taken = await leases.get(ns, 'release');
  assert.is(taken.spec?.holderIdentity, 'replica-b');
  assert.is(taken.spec?.leaseTransitions, 1);
  watch.stop();
  assert.ok(watch.samples() > 100);
  await b.e.stop();
  await a.client.close();
  await b.client.close();
});

test('a leader that loses the API server steps down before its lease expires; the standby takes over after expiry', async () => {
  const a = elector('crash', 'replica-a');
  const b = elector('crash', 'replica-b');
  a.e.start();
  await a.e.whenLeading();
  b.e.start();
  await sleep(500);
  const watch = neverBoth(a.e, b.e);
  const cutAt = Date.now();
  await a.client.close(); // every request of a fails from now on: it cannot renew
  await waitUntil('a to step down', () => !a.e.isLeader(), 5_000);
  const steppedDown = Date.now() - cutAt;
  assert.ok(steppedDown <= timing.renewDeadlineMs + timing.retryPeriodMs + 200, `a stepped down after ${steppedDown} ms`);
  assert.equal(a.log, ['started', 'stopped:lost']);
  await waitUntil('b to lead', () => b.e.isLeader(), 8_000);
  const tookOver = Date.now() - cutAt;
  assert.ok(tookOver >= timing.leaseDurationMs - timing.retryPeriodMs, `b took over after ${tookOver} ms, before the lease could expire`);
  watch.stop();
  await a.e.stop();
  await b.e.stop();
  await b.client.close();
});

test('timing must leave the leader time to step down before the lease expires', () => {
  assert.throws(() => new LeaderElector({ client: observer, namespace: ns, name: 'x', leaseDurationMs: 2_000, renewDeadlineMs: 2_000 }), /shorter/);
});

test.run();
