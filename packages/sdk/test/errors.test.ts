/** Errors are recognised by brand and code, not by class identity. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConflictError, ForbiddenError, InputError, isOpenDepotError, NotFoundError, type OpenDepotError, UnauthenticatedError, UnavailableError, type ErrorCode } from '../src/index.ts';
import { importCopy } from './copies.ts';

type ErrorsModule = typeof import('../src/errors.ts');

test('each error class carries its code, name and transience', () => {
  const cases: Array<[OpenDepotError, ErrorCode, string, boolean]> = [
    [new InputError('m'), 'input', 'InputError', false],
    [new NotFoundError('m'), 'not_found', 'NotFoundError', false],
    [new ConflictError('m'), 'conflict', 'ConflictError', false],
    [new UnauthenticatedError('m'), 'unauthenticated', 'UnauthenticatedError', false],
    [new ForbiddenError('m'), 'forbidden', 'ForbiddenError', false],
    [new UnavailableError('m', { retryAfterMs: 1500 }), 'unavailable', 'UnavailableError', true],
  ];
  for (const [err, code, name, transient] of cases) {
    assert.is(err.code, code);
    assert.is(err.name, name);
    assert.is(err.transient, transient);
    assert.ok(isOpenDepotError(err));
    assert.ok(isOpenDepotError(err, code));
    assert.not.ok(isOpenDepotError(err, code === 'input' ? 'not_found' : 'input'));
  }
  assert.is((cases[5]![0] as UnavailableError).retryAfterMs, 1500);
});

test('field, hint and cause are kept', () => {
  const cause = new Error('root');
  const err = new InputError('bad', { field: 'spec.x', hint: 'fix it', cause });
  assert.is(err.field, 'spec.x');
  assert.is(err.hint, 'fix it');
  assert.is(err.cause, cause);
});

test('errors from another copy of the SDK are recognised, with their codes', async () => {
  const other = await importCopy<ErrorsModule>('errors.ts');
  assert.is.not(other.NotFoundError, NotFoundError, 'the copy must be a separate module instance');
  const foreign = new other.NotFoundError('gone');
  assert.not.ok(foreign instanceof NotFoundError, 'instanceof cannot work across copies, which is why the brand exists');
  assert.ok(isOpenDepotError(foreign, 'not_found'));
  assert.not.ok(isOpenDepotError(foreign, 'input'));
  assert.ok(other.isOpenDepotError(new InputError('x'), 'input'));
});

test('look-alikes are not OpenDepot errors', () => {
  const plain = Object.assign(new Error('m'), { code: 'not_found' });
  assert.not.ok(isOpenDepotError(plain));
  assert.not.ok(isOpenDepotError({ code: 'not_found' }, 'not_found'));
  assert.not.ok(isOpenDepotError(null));
  assert.not.ok(isOpenDepotError('not_found'));
});

test.run();
