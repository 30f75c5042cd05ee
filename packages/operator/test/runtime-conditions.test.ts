/** Condition bookkeeping and merge-patch semantics, as unit tests (the API-server side is in runtime-status). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONDITIONS, REASONS, conditionTime, findCondition, isReadyFor, markReady, markReconciling, markStalled, setCondition } from '../src/runtime/conditions.ts';
import { applyMergePatch } from '../src/runtime/status.ts';

const t0 = new Date('2025-01-01T00:00:00.456Z');
const t1 = new Date('2025-01-01T01:00:00Z');

test('conditionTime is RFC 3339 UTC with whole seconds', () => {
  assert.is(conditionTime(t0), '2025-01-01T00:00:00Z');
});

test('lastTransitionTime changes only when the status changes; reason, message and generation always update', () => {
  let list = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a', observedGeneration: 1 }, t0);
  list = setCondition(list, { type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2 }, t1);
  assert.equal(list, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2, lastTransitionTime: '2025-01-01T00:00:00Z' }]);
  list = setCondition(list, { type: 'Ready', status: 'True', reason: 'C', message: 'c', observedGeneration: 2 }, t1);
  assert.is(list[0]!.lastTransitionTime, '2025-01-01T01:00:00Z');
});

test('setCondition keeps the order of other conditions and never mutates its input', () => {
  const before = Object.freeze([
    Object.freeze({ type: 'A', status: 'True' as const, reason: 'X', message: '', lastTransitionTime: 'x' }),
    Object.freeze({ type: 'B', status: 'True' as const, reason: 'X', message: '', lastTransitionTime: 'x' }),
  ]);
  const after = setCondition(before, { type: 'A', status: 'False', reason: 'Y', message: 'm' }, t0);
  assert.equal(
    after.map((c) => c.type),
    ['A', 'B'],
  );
  assert.is(before[0]!.status, 'True');
  assert.equal(
    setCondition(after, { type: 'C', status: 'True', reason: 'Z', message: '' }, t0).map((c) => c.type),
    ['A', 'B', 'C'],
  );
});

test('markReady sets Ready=True and removes Reconciling and Stalled', () => {
  let list = markStalled([], { reason: REASONS.ChecksumMismatch, message: 'bad', observedGeneration: 1 }, t0);
  list = markReady(list, { observedGeneration: 2 }, t1);
  assert.equal(
    list.map((c) => c.type),
    [CONDITIONS.Ready],
  );
  assert.is(findCondition(list, 'Ready')!.status, 'True');
  assert.is(findCondition(list, 'Ready')!.reason, REASONS.Succeeded);
  assert.ok(isReadyFor(list, 2));
  assert.not.ok(isReadyFor(list, 3), 'a Ready computed for an older generation is stale');
});

test('markReconciling: Ready Unknown while working, False when a failure is retried; Stalled removed', () => {
  let list = markStalled([], { reason: 'X', message: 'x' }, t0);
  list = markReconciling(list, { reason: REASONS.Progressing, message: 'fetching' }, t1);
  assert.is(findCondition(list, 'Reconciling')!.status, 'True');
  assert.is(findCondition(list, 'Ready')!.status, 'Unknown');
  assert.is(findCondition(list, 'Stalled'), undefined);
  list = markReconciling(list, { reason: REASONS.SourceUnavailable, message: '503', failed: true }, t1);
  assert.is(findCondition(list, 'Ready')!.status, 'False');
  assert.is(findCondition(list, 'Ready')!.reason, REASONS.SourceUnavailable);
});

test('markStalled: Stalled=True and Ready=False with the same reason; Reconciling removed', () => {
  let list = markReconciling([], { reason: 'Progressing', message: '' }, t0);
  list = markStalled(list, { reason: REASONS.TamperDetected, message: 'stored object changed', observedGeneration: 4 }, t1);
  assert.is(findCondition(list, 'Reconciling'), undefined);
  assert.equal(findCondition(list, 'Stalled'), {
    type: 'Stalled',
    status: 'True',
    reason: 'TamperDetected',
    message: 'stored object changed',
    observedGeneration: 4,
    lastTransitionTime: '2025-01-01T01:00:00Z',
  });
  assert.is(findCondition(list, 'Ready')!.status, 'False');
  assert.is(findCondition(list, 'Ready')!.reason, 'TamperDetected');
});

test('applyMergePatch follows RFC 7386: objects merge, null removes, arrays and scalars replace', () => {
  const target = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], keep: 'x' };
  const patched = applyMergePatch(target, { a: 5, b: { c: null, e: 4 }, list: [9], gone: null });
  assert.equal(patched, { a: 5, b: { d: 3, e: 4 }, list: [9], keep: 'x' });
  assert.equal(target, { a: 1, b: { c: 2, d: 3 }, list: [1, 2], keep: 'x' }, 'the target is untouched');
  assert.equal(applyMergePatch('scalar', { x: 1 }), { x: 1 });
});

test.run();
