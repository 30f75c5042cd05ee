/**
 * Issue 10 §2, the work queue: one namespace cannot hold every worker (a per-namespace cap and
 * round-robin over namespaces), every run has a deadline, and a cancelled key (its object is being
 * deleted) frees its worker at once without counting as a failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue } from '../src/runtime/work-queue.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The deadline timer is unref'd (as in the operator, where informers keep the process alive).
const keepAlive = setInterval(() => undefined, 1000);
test.after(() => clearInterval(keepAlive));

/** A handler that never finishes unless its signal aborts (an upstream dripping forever). */
function hangingHandler() {
  const started: string[] = [];
  const aborted: unknown[] = [];
  const handler = (key: string, signal: AbortSignal) => {
    started.push(key);
    if (!key.startsWith('drip/')) return Promise.resolve();
    return new Promise<void>((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        aborted.push(signal.reason);
        reject(signal.reason);
      });
    });
  };
  return { handler, started, aborted };
}

test('a namespace whose keys never finish holds at most maxPerNamespace workers; another namespace runs at once', async () => {
  const h = hangingHandler();
  const q = new WorkQueue({ handler: h.handler, concurrency: 4, maxPerNamespace: 3 });
  for (let i = 0; i < 10; i++) q.add(`drip/v${i}`);
  await wait(5);
  assert.is(q.active, 3);
  q.add('other/module');
  await wait(5);
  assert.ok(h.started.includes('other/module'), 'the other namespace got the free worker');
  assert.is(h.started.filter((k) => k.startsWith('drip/')).length, 3);
  await q.shutdown({ timeoutMs: 0 });
});

test('without a cap (the old queue) the same namespace takes every worker and starves the other', async () => {
  const h = hangingHandler();
  const q = new WorkQueue({ handler: h.handler, concurrency: 4 });
  for (let i = 0; i < 10; i++) q.add(`drip/v${i}`);
  q.add('other/module');
  await wait(5);
  assert.not.ok(h.started.includes('other/module'));
  await q.shutdown({ timeoutMs: 0 });
});

test('waiting keys are taken round-robin by namespace, not in arrival order', async () => {
  const order: string[] = [];
  const q = new WorkQueue({ handler: async (key) => void order.push(key), concurrency: 1 });
  q.add('blocker/x');
  for (let i = 0; i < 4; i++) q.add(`a/${i}`);
  q.add('b/0');
  q.add('c/0');
  await q.idle();
  assert.equal(order, ['blocker/x', 'a/0', 'b/0', 'c/0', 'a/1', 'a/2', 'a/3']);
});

test('a run past its deadline is aborted with the deadline reason, retried with backoff, and frees its worker', async () => {
  const h = hangingHandler();
  const failures: { key: string; err: unknown; retryInMs: number }[] = [];
  const q = new WorkQueue({
    handler: h.handler,
    concurrency: 1,
    timeoutMs: 50,
    timeoutReason: () => new Error('deadline of the test'),
    backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
    hooks: { onFailure: (key, err, _ms, retryInMs) => failures.push({ key, err, retryInMs }) },
  });
  q.add('drip/v1');
  q.add('ok/v1');
  await q.idle();
  assert.is(failures.length, 1);
  assert.is((failures[0]!.err as Error).message, 'deadline of the test');
  assert.is(failures[0]!.retryInMs, 60_000);
  assert.ok(h.started.includes('ok/v1'));
  assert.is(q.scheduled, 1, 'the dripping key is scheduled for its retry');
  await q.shutdown({ timeoutMs: 0 });
});

test('cancel aborts the running key at once with the given reason; it runs again without a failure', async () => {
  const h = hangingHandler();
  const failures: string[] = [];
  const q = new WorkQueue({ handler: h.handler, concurrency: 1, hooks: { onFailure: (key) => failures.push(key) } });
  q.add('drip/v1');
  await wait(5);
  const reason = new Error('being deleted');
  q.cancel('drip/v1', reason);
  await wait(5);
  assert.is(h.aborted[0], reason);
  assert.equal(failures, []);
  assert.is(q.failures('drip/v1'), 0);
  assert.is(h.started.filter((k) => k === 'drip/v1').length, 2, 'ran again (to finalize)');
  q.cancel('drip/v1', reason);
  q.cancel('no/such-key', reason); // harmless
  await q.shutdown({ timeoutMs: 0 });
});

test.run();
