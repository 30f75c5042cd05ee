/** The verified-token memory: reused within its window, never past `exp`, bounded, forgotten on a key set change. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Principal } from '@opendepot/sdk';
import { VerifiedTokens } from '../src/verified-tokens.ts';

const alice: Principal = { subject: 'alice', provider: 'dex', groups: ['aws-platform-team'], claims: {} };
const T0 = 1_800_000_000_000;
const far = T0 / 1000 + 3600;

test('a verified token is reused within the window, then verified again', () => {
  const cache = new VerifiedTokens({ seconds: 60, maxEntries: 10, generation: () => 0 });
  cache.remember('token-a', alice, far, T0);
  assert.is(cache.get('token-a', T0 + 59_999), alice);
  assert.is(cache.get('token-b', T0), undefined, 'another token is not');
  assert.is(cache.get('token-a', T0 + 60_000), undefined, 'the window closed');
  assert.is(cache.size, 0, 'and the entry is gone');
});

test('never past exp: a token expiring inside the window is forgotten at exp; an expired one is not remembered', () => {
  const cache = new VerifiedTokens({ seconds: 60, maxEntries: 10, generation: () => 0 });
  cache.remember('soon', alice, T0 / 1000 + 10, T0);
  assert.is(cache.get('soon', T0 + 9_999), alice);
  assert.is(cache.get('soon', T0 + 10_000), undefined);
  cache.remember('expired', alice, T0 / 1000 - 1, T0);
  assert.is(cache.size, 0);
});

test('bounded: the oldest token is forgotten first; 0 seconds remembers nothing', () => {
  const cache = new VerifiedTokens({ seconds: 60, maxEntries: 2, generation: () => 0 });
  for (const t of ['t1', 't2', 't3']) cache.remember(t, alice, far, T0);
  assert.is(cache.size, 2);
  assert.is(cache.get('t1', T0), undefined);
  assert.is(cache.get('t3', T0), alice);
  const off = new VerifiedTokens({ seconds: 0, maxEntries: 2, generation: () => 0 });
  off.remember('t1', alice, far, T0);
  assert.is(off.get('t1', T0), undefined);
});

test('a new key set forgets every verification, and one finished across the change is not remembered', () => {
  let generation = 1;
  const cache = new VerifiedTokens({ seconds: 60, maxEntries: 10, generation: () => generation });
  cache.remember('t1', alice, far, T0);
  generation = 2;
  assert.is(cache.get('t1', T0), undefined);
  cache.remember('t2', alice, far, T0);
  assert.is(cache.get('t2', T0), alice);
  generation = 3;
  cache.remember('t3', alice, far, T0);
  assert.is(cache.get('t3', T0), undefined, 'remembered while the set changed: verified again next time');
});

test.run();
