/** Errors at the edges: HTTP responses and controller conditions, by code, never by instanceof. */
import { ConflictError, ForbiddenError, InputError, NotFoundError, OpenDepotError, UnauthenticatedError, UnavailableError } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toCondition } from '../src/errors/condition.ts';
import { MAX_CONDITION_MESSAGE } from '../src/conditions/message.ts';
import { DEFAULT_RETRY_AFTER_SECONDS, httpStatusOf, toHttpError } from '../src/errors/http.ts';
import { withContext } from '../src/errors/with-context.ts';

/** An error as another copy of the SDK would make it: same brand, different class. */
function foreignError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  const err = Object.assign(new Error(message), { code, field: undefined, hint: undefined, transient: code === 'unavailable', ...extra });
  Object.defineProperty(err, Symbol.for('opendepot.error'), { value: true });
  return err;
}

test('HTTP status for every code', () => {
  const cases: Array<[Error, number]> = [
    [new InputError('bad'), 400],
    [new UnauthenticatedError('who'), 401],
    [new ForbiddenError('no'), 403],
    [new NotFoundError('gone'), 404],
    [new ConflictError('clash'), 409],
    [new UnavailableError('down'), 503],
    [new Error('bug'), 500],
    [foreignError('not_found', 'x'), 404],
  ];
  for (const [err, status] of cases) {
    assert.is(httpStatusOf(err), status, err.message);
    assert.is(toHttpError(err).status, status, err.message);
  }
  assert.is(httpStatusOf('a string'), 500);
  assert.is(httpStatusOf(undefined), 500);
});

test('the body is the registry protocol error shape, with the hint', () => {
  assert.equal(toHttpError(new NotFoundError('module hashicorp/consul/aws not found')), {
    status: 404,
    body: { errors: ['module hashicorp/consul/aws not found'] },
    headers: {},
  });
  assert.equal(toHttpError(new InputError('bad version "x"', { hint: 'Use semver.' })).body, { errors: ['bad version "x". Use semver.'] });
  assert.equal(toHttpError(new InputError('bad version.', { hint: 'Use semver.' })).body, { errors: ['bad version. Use semver.'] });
});

test('503 carries Retry-After, from the error or a default', () => {
  const withHint = toHttpError(new UnavailableError('rate limited', { retryAfterMs: 1500 }));
  assert.equal([withHint.status, withHint.retryAfterSeconds, withHint.headers], [503, 2, { 'retry-after': '2' }]);
  const without = toHttpError(foreignError('unavailable', 'down'));
  assert.is(without.headers['retry-after'], String(DEFAULT_RETRY_AFTER_SECONDS));
});

test('unknown errors become a generic 500 that leaks nothing', () => {
  const err = new Error('ENOENT: open /var/lib/opendepot/secret-path/key.pem');
  err.stack = 'at internals (/app/server.js:1:1)';
  const response = toHttpError(err);
  assert.equal(response, { status: 500, body: { errors: ['internal server error'] }, headers: {} });
  assert.not.match(JSON.stringify(toHttpError({ code: 'input', message: 'looks like one but has no brand' })), /looks like/);
});

test('credentials in messages are scrubbed before they reach a client', () => {
  const body = toHttpError(new UnavailableError('cannot reach https://u:topsecret@upstream.example')).body;
  assert.not.match(body.errors[0] ?? '', /topsecret/);
});

test('conditions: reason, transient, retryAfterMs for every code', () => {
  assert.equal(toCondition(new InputError('spec.x is bad', { hint: 'Fix it.' })), { reason: 'InvalidSpec', message: 'spec.x is bad. Fix it.', transient: false });
  assert.equal(toCondition(new NotFoundError('no release')), { reason: 'NotFound', message: 'no release', transient: false });
  assert.equal(toCondition(new ConflictError('immutable')), { reason: 'Conflict', message: 'immutable', transient: false });
  assert.equal(toCondition(new UnauthenticatedError('bad token')), { reason: 'Unauthenticated', message: 'bad token', transient: false });
  assert.equal(toCondition(new ForbiddenError('denied')), { reason: 'Forbidden', message: 'denied', transient: false });
  assert.equal(toCondition(new UnavailableError('rate limited', { retryAfterMs: 60_000 })), {
    reason: 'RateLimited',
    message: 'rate limited',
    transient: true,
    retryAfterMs: 60_000,
  });
  assert.equal(toCondition(new UnavailableError('503')), { reason: 'SourceUnavailable', message: '503', transient: true });
  assert.equal(toCondition(new OpenDepotError('integrity', 'bad signature')), { reason: 'VerificationFailed', message: 'bad signature', transient: false });
  // An error that names a reason of the table keeps it; one outside the table does not.
  const limited = Object.assign(new InputError('too many entries'), { conditionReason: 'LimitExceeded' });
  assert.is(toCondition(limited).reason, 'LimitExceeded');
  assert.is(toCondition(Object.assign(new InputError('x'), { conditionReason: 'Made Up' })).reason, 'InvalidSpec');
  assert.equal(toCondition(foreignError('conflict', 'other copy')), { reason: 'Conflict', message: 'other copy', transient: false });
  assert.equal(toCondition(new TypeError('x is undefined')), { reason: 'InternalError', message: 'internal error: x is undefined', transient: true });
  assert.equal(toCondition('thrown string'), { reason: 'InternalError', message: 'internal error: thrown string', transient: true });
});

test('condition reasons are CamelCase as Kubernetes requires, and messages are bounded', () => {
  for (const err of [new InputError('a'), new UnavailableError('b'), new Error('c'), new OpenDepotError('forbidden', 'd')]) {
    assert.match(toCondition(err).reason, /^[A-Z][A-Za-z0-9]*$/);
  }
  const long = toCondition(new InputError('x'.repeat(5000)));
  assert.is(long.message.length, MAX_CONDITION_MESSAGE);
  assert.not.match(toCondition(new Error('token ghp_abcdefghijklmnopqrstuvwxyz0123 leaked')).message, /ghp_/);
});

test('withContext keeps the code, hint and retryAfterMs, and points the field', () => {
  const original = new UnavailableError('timeout', { retryAfterMs: 10, hint: 'Wait.' });
  const wrapped = withContext(original, 'spec.storageConfig.s3', { field: 'spec.storageConfig.s3.endpoint' }) as UnavailableError;
  assert.is(wrapped.message, 'spec.storageConfig.s3: timeout');
  assert.is(wrapped.code, 'unavailable');
  assert.is(wrapped.retryAfterMs, 10);
  assert.is(wrapped.hint, 'Wait.');
  assert.is(wrapped.field, 'spec.storageConfig.s3.endpoint');
  assert.is(wrapped.cause, original);
  assert.is(httpStatusOf(withContext(new ForbiddenError('no'), 'ctx')), 403);
  const plain = withContext(new RangeError('boom'), 'ctx');
  assert.is(plain.message, 'ctx: boom');
  assert.is(httpStatusOf(plain), 500);
});

test.run();
