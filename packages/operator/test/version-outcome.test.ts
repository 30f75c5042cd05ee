/**
 * The summarize step of the Version controller: one outcome in, the status patch out. The summary
 * conditions follow kstatus (Ready, Reconciling, Stalled), UpstreamChanged is set, kept or
 * removed as the outcome says, and the compatibility fields only mirror Ready.
 */
import type { Condition, VersionStatus } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { summarizeVersion } from '../src/controllers/version-outcome.ts';

const now = new Date('2026-01-02T03:04:05.678Z');
const earlier = '2025-12-01T00:00:00Z';
const sha = 'a'.repeat(64);
const of = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);
const condition = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({ type, status, reason, message, lastTransitionTime: earlier });
const stored = { checksum: sha, size: 42, storageKey: 'ns/modules/m/1.0.0.zip', filename: '1.0.0.zip' };

test('ready: Ready=True with the stored fields; Reconciling and Stalled go; synced mirrors Ready; the verify time is stamped', () => {
  const status: VersionStatus = { conditions: [condition('Reconciling', 'True', 'Progressing'), condition('Ready', 'Unknown', 'Progressing')] };
  const patch = summarizeVersion(status, { state: 'ready', reason: 'Succeeded', message: `stored and verified (sha256 ${sha})`, stored }, now);
  const conditions = patch.conditions as Condition[];
  assert.equal(of(conditions, 'Ready'), { type: 'Ready', status: 'True', reason: 'Succeeded', message: `stored and verified (sha256 ${sha})`, lastTransitionTime: '2026-01-02T03:04:05Z' });
  assert.not.ok(of(conditions, 'Reconciling'));
  assert.not.ok(of(conditions, 'Stalled'));
  assert.is(patch.checksum, sha);
  assert.is(patch.size, 42);
  assert.is(patch.filename, '1.0.0.zip');
  assert.is(patch.synced, true);
  assert.is(patch.syncStatus, `stored and verified (sha256 ${sha})`);
  assert.is(patch.lastVerifiedTime, '2026-01-02T03:04:05Z');
});

test('a periodic verification of the same checksum does not stamp the verify time again', () => {
  const status: VersionStatus = { checksum: sha, lastVerifiedTime: earlier, conditions: [condition('Ready', 'True', 'Verified')] };
  const patch = summarizeVersion(status, { state: 'ready', reason: 'Verified', message: 'ok', stored }, now);
  assert.is(patch.lastVerifiedTime, undefined);
  assert.is(of(patch.conditions as Condition[], 'Ready')!.lastTransitionTime, earlier, 'Ready stayed True: its transition time stays');
});

test('UpstreamChanged: set by a changed upstream, kept by a plain verification, removed by a matching upstream or a new store', () => {
  const changed = summarizeVersion({}, { state: 'ready', reason: 'Verified', message: 'kept', upstream: { changed: true, message: 'the upstream moved' } }, now);
  const set = of(changed.conditions as Condition[], 'UpstreamChanged');
  assert.equal([set?.status, set?.reason, set?.message], ['True', 'ImmutableViolation', 'the upstream moved']);
  assert.is(changed.synced, true, 'the stored archive is still served');
  const withChange: VersionStatus = { conditions: [condition('Ready', 'True', 'Verified'), condition('UpstreamChanged', 'True', 'ImmutableViolation', 'moved')] };
  for (const reason of ['Verified', 'StorageChanged']) {
    const kept = summarizeVersion(withChange, { state: 'ready', reason, message: 'ok', stored }, now);
    assert.ok(of(kept.conditions as Condition[], 'UpstreamChanged'), `${reason} without a comparison keeps it`);
  }
  const matched = summarizeVersion(withChange, { state: 'ready', reason: 'Verified', message: 'ok', stored, upstream: { changed: false } }, now);
  assert.not.ok(of(matched.conditions as Condition[], 'UpstreamChanged'));
  for (const reason of ['Succeeded', 'Restored']) {
    const renewed = summarizeVersion(withChange, { state: 'ready', reason, message: 'ok', stored }, now);
    assert.not.ok(of(renewed.conditions as Condition[], 'UpstreamChanged'), `${reason} removes it`);
  }
});

test('progressing: Reconciling=True, Ready=Unknown, nothing stored; synced is false and syncStatus says what happens', () => {
  const patch = summarizeVersion(
    { checksum: sha, conditions: [condition('Stalled', 'True', 'ChecksumMismatch')] },
    { state: 'progressing', reason: 'Progressing', message: 'fetching 1.0.0 from the source' },
    now,
  );
  const conditions = patch.conditions as Condition[];
  assert.is(of(conditions, 'Reconciling')?.status, 'True');
  assert.is(of(conditions, 'Ready')?.status, 'Unknown');
  assert.not.ok(of(conditions, 'Stalled'));
  assert.is(patch.checksum, undefined, 'a recorded checksum is left as it is');
  assert.equal([patch.synced, patch.syncStatus], [false, 'fetching 1.0.0 from the source']);
});

test('retrying: Reconciling=True with Ready=False and the reason of the failure', () => {
  const patch = summarizeVersion({}, { state: 'retrying', reason: 'SourceUnavailable', message: 'GitHub answered 503 (retrying)' }, now);
  const conditions = patch.conditions as Condition[];
  assert.equal([of(conditions, 'Reconciling')?.status, of(conditions, 'Ready')?.status, of(conditions, 'Ready')?.reason], ['True', 'False', 'SourceUnavailable']);
  assert.equal([patch.synced, patch.syncStatus], [false, 'GitHub answered 503 (retrying)']);
});

test('stalled: Stalled=True and Ready=False with one reason, Reconciling gone; a refusing scan is recorded', () => {
  const scan = { scanner: 'trivy', scannedAt: earlier, critical: 1, high: 0, medium: 0, low: 0, unknown: 0, blocked: true, reportKey: 'k.scan.json' };
  const patch = summarizeVersion({ conditions: [condition('Reconciling', 'True', 'Progressing')] }, { state: 'stalled', reason: 'ScanBlocked', message: 'refused', scan }, now);
  const conditions = patch.conditions as Condition[];
  assert.equal([of(conditions, 'Stalled')?.status, of(conditions, 'Ready')?.status, of(conditions, 'Ready')?.reason], ['True', 'False', 'ScanBlocked']);
  assert.not.ok(of(conditions, 'Reconciling'));
  assert.equal(patch.scan, scan);
  assert.equal([patch.synced, patch.syncStatus], [false, 'refused']);
});

test('stalled with forgetStored (a served archive refused once its exemption lapsed): the stored fields are cleared, so nothing verifies it back to Ready', () => {
  const status: VersionStatus = { ...stored, h1: `h1:${'a'.repeat(43)}=`, zh: `zh:${sha}`, lastVerifiedTime: earlier, conditions: [condition('Ready', 'True', 'Succeeded')] };
  const patch = summarizeVersion(status, { state: 'stalled', reason: 'ScanBlocked', message: 'refused', forgetStored: true }, now);
  assert.equal([patch.checksum, patch.size, patch.storageKey, patch.h1, patch.zh, patch.lastVerifiedTime], [null, null, null, null, null, null]);
  assert.is(of(patch.conditions as Condition[], 'Ready')?.status, 'False');
  const kept = summarizeVersion(status, { state: 'stalled', reason: 'ScanBlocked', message: 'refused' }, now);
  assert.is(kept.checksum, undefined, 'without it the stored fields are left alone');
});

test('messages are redacted and bounded whoever composed them', () => {
  const patch = summarizeVersion({}, { state: 'stalled', reason: 'NotFound', message: `https://u:hunter2@example.com ${'x'.repeat(5000)}` }, now);
  const ready = of(patch.conditions as Condition[], 'Ready')!;
  assert.not.match(ready.message, /hunter2/);
  assert.ok(ready.message.length <= 1024);
  assert.is(patch.syncStatus, ready.message);
});

test.run();
