/**
 * The work queue's promises, as fast unit tests: de-duplication, one run per key at a time,
 * bounded concurrency, per-key capped backoff (reset on success), retryAfterMs, requeue-after
 * and shutdown.
 */
import { backoffDelay } from '@opendepot/core';
import { UnavailableError } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue, retryDelay } from '../src/runtime/work-queue.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler whose runs the test controls: each run waits until released. */
function gatedHandler() {
  const runs: string[] = [];
  const inFlight = new Map<string, number>();
  let maxSameKey = 0;
  let maxTotal = 0;
  let gates: (() => void)[] = [];
  const handler = async (key: string) => {
    runs.push(key);
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    maxSameKey = Math.max(maxSameKey, inFlight.get(key)!);
    maxTotal = Math.max(
      maxTotal,
      [...inFlight.values()].reduce((a, b) => a + b, 0),
    );
    await new Promise<void>((r) => gates.push(r));
    inFlight.set(key, inFlight.get(key)! - 1);
  };
  return {
    handler,
    runs,
    stats: () => ({ maxSameKey, maxTotal }),
    /** Lets every run waiting now finish. */
    release: async () => {
      const open = gates;
      gates = [];
      for (const g of open) g();
      await wait(1);
    },
    waiting: () => gates.length,
  };
}

test('a key added many times while waiting runs once', async () => {
  const g = gatedHandler();
  const q = new WorkQueue({ handler: g.handler, concurrency: 1 });
  q.add('ns/blocker');
  for (let i = 0; i < 5; i++) q.add('ns/a');
  assert.is(q.depth, 1, 'ns/a waits once');
  await g.release();
  await g.release();
  await q.idle();
  assert.equal(g.runs, ['ns/blocker', 'ns/a']);
});

test('a key re-added while it runs never runs concurrently, and runs exactly once more afterwards', async () => {
  const g = gatedHandler();
  const q = new WorkQueue({ handler: g.handler, concurrency: 4 });
  q.add('ns/a');
  await wait(1);
  assert.is(q.active, 1);
  q.add('ns/a');
  q.add('ns/a');
  q.add('ns/a');
  await wait(5);
  assert.is(g.waiting(), 1, 'the second run must not start while the first runs');
  assert.is(q.depth, 0, 'a running key is not queued beside itself');
  await g.release(); // first run ends, the re-run starts
  assert.is(g.waiting(), 1);
  await g.release();
  await q.idle();
  assert.equal(g.runs, ['ns/a', 'ns/a']);
  assert.is(g.stats().maxSameKey, 1);
});

test('no more than `concurrency` keys run at once, and every key runs', async () => {
  const g = gatedHandler();
  const q = new WorkQueue({ handler: g.handler, concurrency: 3 });
  for (let i = 0; i < 10; i++) q.add(`ns/k${i}`);
  await wait(1);
  assert.is(q.active, 3);
  assert.is(q.depth, 7);
  while (g.runs.length < 10 || g.waiting() > 0) await g.release();
  await q.idle();
  assert.is(g.stats().maxTotal, 3);
  assert.is(new Set(g.runs).size, 10);
});

test('backoff: no jitter doubles from base and stops at the cap; jitter stays within its band and under the cap', () => {
  const o = { baseMs: 100, maxMs: 1_000, jitter: 0 };
  assert.equal(
    [1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffDelay(n, o)),
    [100, 200, 400, 800, 1000, 1000, 1000, 1000],
  );
  for (let attempt = 1; attempt < 40; attempt++) {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const d = backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, jitter: 0.5 }, () => r);
      const nominal = Math.min(1000, 100 * 2 ** (attempt - 1));
      assert.ok(d <= 1_000, `attempt ${attempt}: ${d} is over the cap`);
      assert.ok(d >= nominal * 0.75 - 1 && d <= Math.min(1000, nominal * 1.25 + 1), `attempt ${attempt} r=${r}: ${d} outside ±25% of ${nominal}`);
    }
  }
  // Jitter really spreads: two random draws give different delays.
  assert.not.equal(
    backoffDelay(3, { baseMs: 100, jitter: 0.5 }, () => 0),
    backoffDelay(3, { baseMs: 100, jitter: 0.5 }, () => 0.99),
  );
});

test('a failing key is retried with growing delays per key, capped, and the count resets on success', async () => {
  const times: number[] = [];
  let failuresLeft = 5;
  const q = new WorkQueue({
    backoff: { baseMs: 20, maxMs: 60, jitter: 0 },
    handler: async () => {
      times.push(performance.now());
      if (failuresLeft-- > 0) throw new Error('boom');
    },
  });
  q.add('ns/a');
  const deadline = Date.now() + 3_000;
  while (times.length < 6 && Date.now() < deadline) await wait(5);
  await q.idle();
  assert.is(times.length, 6, 'five failures then one success');
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // 20, 40, 60 (cap), 60, 60 — timers may fire late but never early.
  const expected = [20, 40, 60, 60, 60];
  gaps.forEach((gap, i) => assert.ok(gap >= expected[i]! - 2, `retry ${i + 1} after ${gap.toFixed(1)} ms, expected ≥ ${expected[i]}`));
  assert.ok(gaps[3]! < 60 + 50 && gaps[4]! < 60 + 50, `capped retries must not keep growing: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  assert.is(q.failures('ns/a'), 0, 'success resets the count');

  // After the reset, the next failure waits the base delay again, not the cap.
  failuresLeft = 1;
  times.length = 0;
  q.add('ns/a');
  while (times.length < 2 && Date.now() < deadline + 2_000) await wait(5);
  const gap = times[1]! - times[0]!;
  assert.ok(gap >= 18 && gap < 55, `after a success the first retry waits the base delay, waited ${gap.toFixed(1)} ms`);
});

test('backoff is per key: one key failing does not delay another', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({
    concurrency: 1,
    backoff: { baseMs: 10_000, maxMs: 10_000, jitter: 0 },
    handler: async (key) => {
      runs.push(key);
      if (key === 'ns/bad') throw new Error('always');
    },
  });
  q.add('ns/bad');
  q.add('ns/good');
  await q.idle();
  assert.equal(runs, ['ns/bad', 'ns/good']);
  assert.is(q.failures('ns/bad'), 1);
  assert.is(q.scheduled, 1, 'the bad key waits for its retry');
  await q.shutdown();
});

test("an error's retryAfterMs is honoured instead of the (shorter) backoff", async () => {
  const times: number[] = [];
  const q = new WorkQueue({
    backoff: { baseMs: 5, maxMs: 10, jitter: 0 },
    handler: async () => {
      times.push(performance.now());
      if (times.length === 1) throw new UnavailableError('rate limited', { retryAfterMs: 150 });
    },
  });
  q.add('ns/a');
  while (times.length < 2) await wait(5);
  assert.ok(times[1]! - times[0]! >= 148, `retried after ${(times[1]! - times[0]!).toFixed(0)} ms, the upstream asked for 150`);
  assert.is(retryDelay({ retryAfterMs: 0 }, 1, { baseMs: 50, jitter: 0 }), 50, 'a zero hint never makes a hot loop');
  assert.is(retryDelay(new Error('x'), 3, { baseMs: 50, maxMs: 1000, jitter: 0 }), 200);
});

test('addAfter runs a key later, the earliest schedule wins, and requeueAfterMs schedules the next run', async () => {
  const times: { key: string; at: number }[] = [];
  const begin = performance.now();
  const q = new WorkQueue({
    handler: async (key) => {
      times.push({ key, at: performance.now() - begin });
      if (key === 'ns/periodic' && times.filter((t) => t.key === key).length < 3) return { requeueAfterMs: 30 };
    },
  });
  q.addAfter('ns/later', 200);
  q.addAfter('ns/later', 60); // earlier: replaces
  q.addAfter('ns/later', 500); // later: ignored
  assert.is(q.scheduled, 1);
  q.add('ns/periodic');
  await wait(300);
  const later = times.filter((t) => t.key === 'ns/later');
  assert.is(later.length, 1, 'scheduled three times, runs once');
  assert.ok(later[0]!.at >= 58 && later[0]!.at < 190, `ran at ${later[0]!.at.toFixed(0)} ms, expected ~60`);
  const periodic = times.filter((t) => t.key === 'ns/periodic');
  assert.is(periodic.length, 3);
  assert.ok(periodic[2]!.at - periodic[0]!.at >= 58);
  await q.shutdown();
});

test('shutdown lets running keys finish, drops waiting and scheduled ones, ignores new adds', async () => {
  const g = gatedHandler();
  const q = new WorkQueue({ handler: g.handler, concurrency: 1 });
  q.add('ns/running');
  q.add('ns/waiting');
  q.addAfter('ns/scheduled', 20);
  await wait(1);
  let done = false;
  const stopped = q.shutdown({ timeoutMs: 5_000 }).then(() => (done = true));
  q.add('ns/new');
  await wait(40);
  assert.is(done, false, 'waits for the running key');
  await g.release();
  await stopped;
  assert.equal(g.runs, ['ns/running']);
  assert.is(q.depth + q.active + q.scheduled, 0);
});

test('shutdown with drain runs the waiting keys first; a handler that overstays is aborted', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ handler: async (key) => void runs.push(key), concurrency: 1 });
  q.add('ns/a');
  q.add('ns/b');
  await q.shutdown({ drain: true });
  assert.equal(runs, ['ns/a', 'ns/b']);

  let aborted = false;
  const stuck = new WorkQueue({
    handler: (_key, signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        }),
      ),
  });
  stuck.add('ns/stuck');
  await wait(1);
  const t = performance.now();
  await stuck.shutdown({ timeoutMs: 50 });
  assert.ok(aborted, 'the handler saw its signal abort');
  assert.ok(performance.now() - t >= 45);
});

test.run();
