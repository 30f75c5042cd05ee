/** The one reason table: names Kubernetes accepts, and what the server and owners read from it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_CONDITION_MESSAGE, conditionMessage } from '../src/conditions/message.ts';
import { REASONS, REASON_TABLE, isIntegrityReason, readyReasonServes, reasonMeaning } from '../src/conditions/reasons.ts';
import { CONDITION_REASONS } from '../src/errors/condition.ts';

test('every reason is CamelCase, named after itself, and explained', () => {
  for (const [name, meaning] of Object.entries(REASON_TABLE)) {
    assert.match(name, /^[A-Z][A-Za-z0-9]*$/);
    assert.is(REASONS[name as keyof typeof REASONS], name);
    assert.ok(meaning.meaning.length > 0, name);
  }
  for (const reason of Object.values(CONDITION_REASONS)) assert.ok(reasonMeaning(reason), `${reason} is in the table`);
});

test('servable: Ready=True serves unless its reason is a failure; integrity reasons are the three checksum ones', () => {
  for (const reason of ['Succeeded', 'Verified', 'Restored', 'StorageChanged', 'SomethingAnOlderOperatorWrote']) assert.ok(readyReasonServes(reason), reason);
  for (const reason of ['ChecksumMismatch', 'VerificationFailed', 'ScanBlocked', 'Progressing']) assert.not.ok(readyReasonServes(reason), reason);
  assert.equal(Object.keys(REASON_TABLE).filter(isIntegrityReason).sort(), ['ChecksumMismatch', 'ImmutableViolation', 'VerificationFailed']);
  assert.ok(reasonMeaning('VerificationFailed')?.clientDetail);
  assert.is(reasonMeaning('toString'), undefined, 'only own entries');
});

test('condition messages lose credentials first, then are cut', () => {
  const text = conditionMessage(`https://u:hunter2@example.com/x?token=abc ${'y'.repeat(5000)}`);
  assert.not.match(text, /hunter2|token=abc/);
  assert.is(text.length, MAX_CONDITION_MESSAGE);
  assert.is(conditionMessage('short'), 'short');
});

test.run();
