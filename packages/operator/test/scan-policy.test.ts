/**
 * The per-resource scan policy: spec.scanning.blockSeverities replaces the operator default, an
 * ignore entry exempts its finding only while expires is in the future, and a stored Version
 * whose exemption lapsed (or was removed) is judged again.
 */
import type { Finding } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockRulesOf, exemptionLapsed, judgeFindings, msUntilExpiry } from '../src/controllers/scan-policy.ts';

const now = Date.parse('2026-06-01T00:00:00Z');
const high: Finding = { id: 'CVE-2022-32149', severity: 'HIGH', title: 'x/text denial of service' };
const low: Finding = { id: 'CVE-2020-0001', severity: 'LOW', title: 'minor' };
const future = { id: 'CVE-2022-32149', expires: '2026-06-02T00:00:00Z', reason: 'not reachable' };
const past = { id: 'CVE-2022-32149', expires: '2026-05-31T00:00:00Z', reason: 'not reachable' };

test('blockRulesOf: the resource blockSeverities replace the operator default; unset keeps it; an empty list blocks nothing', () => {
  assert.equal(blockRulesOf(undefined, ['CRITICAL']), { blockSeverities: ['CRITICAL'], ignore: [] });
  assert.equal(blockRulesOf({ blockSeverities: ['HIGH'] }, ['CRITICAL']).blockSeverities, ['HIGH']);
  assert.equal(judgeFindings([high], blockRulesOf({ blockSeverities: [] }, ['HIGH']), now).blocking, []);
});

test('judgeFindings: a finding of a blocking severity blocks; other severities do not', () => {
  const verdict = judgeFindings([high, low], { blockSeverities: ['HIGH'], ignore: [] }, now);
  assert.equal(verdict.blocking, [high]);
  assert.equal(verdict.ignored, []);
  assert.is(verdict.nextExpiry, undefined);
});

test('judgeFindings: an exemption with a future expires lets its finding through, is reported, and sets when to judge again', () => {
  const verdict = judgeFindings([high, { ...high, title: 'same id, another package' }], { blockSeverities: ['HIGH'], ignore: [future] }, now);
  assert.equal(verdict.blocking, []);
  assert.equal(verdict.ignored, [future], 'listed once however many findings it exempts');
  assert.is(verdict.nextExpiry, Date.parse(future.expires));
});

test('judgeFindings: an expired exemption, or one for another id, exempts nothing', () => {
  assert.equal(judgeFindings([high], { blockSeverities: ['HIGH'], ignore: [past] }, now).blocking, [high]);
  assert.equal(judgeFindings([high], { blockSeverities: ['HIGH'], ignore: [{ ...future, id: 'CVE-1' }] }, now).blocking, [high]);
  assert.equal(judgeFindings([high], { blockSeverities: ['HIGH'], ignore: [{ ...future, expires: 'soon' }] }, now).blocking, [high], 'an unparsable date exempts nothing');
});

test('exemptionLapsed: true once a relied-on exemption expired or left the spec; false while it holds', () => {
  const scan = { ignored: [future] };
  assert.is(exemptionLapsed(scan, { ignore: [future] }, now), false);
  assert.is(exemptionLapsed(scan, { ignore: [future] }, Date.parse(future.expires)), true, 'at expires it has lapsed');
  assert.is(exemptionLapsed(scan, { ignore: [] }, now), true, 'removed from the spec');
  assert.is(exemptionLapsed(scan, { ignore: [{ ...future, expires: '2026-07-01T00:00:00Z' }] }, now), true, 'changed: judged again under the new entry');
  assert.is(exemptionLapsed(undefined, undefined, now), false);
  assert.is(exemptionLapsed({ ignored: [] }, undefined, now), false);
});

test('msUntilExpiry: the time until the earliest relied-on exemption expires, never negative', () => {
  assert.is(msUntilExpiry({ ignored: [future, { ...future, id: 'CVE-2', expires: '2026-06-01T00:00:10Z' }] }, now), 10_000);
  assert.is(msUntilExpiry({ ignored: [past] }, now), 0);
  assert.is(msUntilExpiry({}, now), undefined);
});

test.run();
