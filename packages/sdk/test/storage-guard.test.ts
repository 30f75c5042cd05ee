/** The storage contract's rules, which every backend applies through these functions. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkKey, checkPutOptions, checkRange, checkSha256, isOpenDepotError, MAX_KEY_BYTES, normalisePrefix, recordedSha256, verifySha256 } from '../src/index.ts';
import { BAD_KEYS, BAD_RANGES, BAD_SHA256 } from '../src/testkit/index.ts';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new assert.Assertion({ message: 'expected a throw', operator: 'throws', expects: 'throw', actual: 'return' });
}

function assertInput(run: () => unknown, field: string, message?: RegExp): void {
  const err = thrown(run);
  assert.ok(isOpenDepotError(err, 'input'), `expected an InputError, got ${String(err)}`);
  assert.is((err as { field?: string }).field, field);
  if (message) assert.match((err as Error).message, message);
}

test('keys the host writes pass and come back as segments', () => {
  assert.equal(checkKey('modules/ns/vpc/aws/1.2.0/vpc-aws-1.2.0.zip'), ['modules', 'ns', 'vpc', 'aws', '1.2.0', 'vpc-aws-1.2.0.zip']);
  assert.equal(checkKey('providers/ns/aws/5.0.0/terraform-provider-aws_5.0.0_linux_amd64.zip.scan-report.json').length, 5);
  assert.equal(checkKey('v1.2.3-rc.1+build name %20~ü/=,@.tar.gz'), ['v1.2.3-rc.1+build name %20~ü', '=,@.tar.gz']);
  assert.equal(checkKey('.hidden/x.opendepot'), ['.hidden', 'x.opendepot'], 'only a segment that starts with .opendepot is reserved');
});

test('every key the conformance kit calls bad is refused with an InputError naming the key', () => {
  for (const bad of BAD_KEYS) assertInput(() => checkKey(bad), 'key', /invalid storage key/);
  assertInput(() => checkKey(undefined), 'key', /must be a string/);
});

test('reserved names are refused whatever their case', () => {
  assertInput(() => checkKey('.OPENDEPOT-UPLOADS/x'), 'key', /reserve/);
  assertInput(() => checkKey('a/name.SHA256.JSON', { reservedSuffixes: ['.sha256.json'] }), 'key', /own files/);
  assertInput(() => checkKey('a/name.0123456789ABCDEF.blob', { reservedSuffixes: [/\.[0-9a-f]{16}\.blob$/] }), 'key', /own files/);
  assert.equal(checkKey('a/name.json', { reservedSuffixes: ['.sha256.json'] }), ['a', 'name.json']);
});

test('length limits count UTF-8 bytes, with the prefix', () => {
  assert.equal(checkKey('x'.repeat(MAX_KEY_BYTES)).length, 1);
  assertInput(() => checkKey('ü'.repeat(MAX_KEY_BYTES / 2 + 1)), 'key', /longer than 1024 bytes/);
  assertInput(() => checkKey('x'.repeat(MAX_KEY_BYTES - 2), { prefix: 'od/' }), 'key', /with the prefix "od\/"/);
  assertInput(() => checkKey('x'.repeat(10), { maxBytes: 5 }), 'key', /longer than 5 bytes/);
  assertInput(() => checkKey(`${'d'.repeat(21)}/x`, { maxSegmentBytes: 20 }), 'key', /longer than 20 bytes/);
  assertInput(() => checkKey(`d/${'x'.repeat(11)}`, { maxSegmentBytes: 20, maxLastSegmentBytes: 10 }), 'key', /longer than 10 bytes/);
  assert.equal(checkKey(`${'d'.repeat(20)}/${'x'.repeat(10)}`, { maxSegmentBytes: 20, maxLastSegmentBytes: 10 }).length, 2);
});

test('prefixes normalise to "" or segments ending in "/", and follow the key rules', () => {
  for (const [given, want] of [
    [undefined, ''],
    ['', ''],
    ['/', ''],
    ['od', 'od/'],
    ['/od/', 'od/'],
    ['a/b//', 'a/b/'],
    ['//a/b', 'a/b/'],
  ] as const) {
    assert.is(normalisePrefix(given), want, `normalisePrefix(${JSON.stringify(given)})`);
  }
  for (const bad of ['a//b', 'a/../b', './a', 'a\\b', 'a\nb', 'a./b', '.opendepot-uploads']) {
    assertInput(() => normalisePrefix(bad, 'storage.prefix'), 'storage.prefix', /invalid key prefix/);
  }
});

test('an expected SHA-256 is 64 hex digits in either case, returned in lowercase', () => {
  const hex = 'ab'.repeat(32);
  assert.is(checkSha256(hex), hex);
  assert.is(checkSha256(hex.toUpperCase()), hex);
  assert.is(checkSha256(undefined), undefined);
  for (const bad of [...BAD_SHA256, 42, null]) assertInput(() => checkSha256(bad), 'sha256', /64 hex digits/);
  assert.equal(checkPutOptions({ sha256: hex.toUpperCase(), size: 0 }), { sha256: hex, size: 0 });
  assert.equal(checkPutOptions(), { sha256: undefined, size: undefined });
  for (const size of [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) assertInput(() => checkPutOptions({ size }), 'size');
});

test('a recorded SHA-256 reads back in lowercase, or as unknown when it is not one', () => {
  const hex = 'cd'.repeat(32);
  assert.is(recordedSha256(hex.toUpperCase()), hex);
  for (const bad of [undefined, '', 'abc', 42, `${hex}0`]) assert.is(recordedSha256(bad), '', String(bad));
});

test('ranges are inclusive, with a non-negative integer start and an end not below it', () => {
  assert.is(checkRange(undefined), undefined);
  assert.equal(checkRange({ start: 0 }), { start: 0, end: undefined });
  assert.equal(checkRange({ start: 5, end: 5 }), { start: 5, end: 5 });
  for (const bad of BAD_RANGES) {
    const err = thrown(() => checkRange(bad));
    assert.ok(isOpenDepotError(err, 'input') && /^range\.(start|end)$/.test(err.field ?? ''), `${JSON.stringify(bad)}: ${String(err)}`);
  }
});

test('a checksum mismatch is an IntegrityError naming the key and both checksums', () => {
  const expected = 'a'.repeat(64);
  const actual = 'b'.repeat(64);
  verifySha256('k', expected, expected);
  verifySha256('k', undefined, actual);
  const err = thrown(() => verifySha256('modules/x.zip', expected, actual));
  assert.ok(isOpenDepotError(err, 'integrity'), String(err));
  assert.is((err as Error).name, 'IntegrityError');
  assert.match((err as Error).message, /modules\/x\.zip hashes to sha256 b{64}, not the expected a{64}; nothing was stored/);
});

test.run();
