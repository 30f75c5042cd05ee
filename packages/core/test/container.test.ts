/** The DI container facade: typed tokens, multi-registration, children, disposal. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContainer } from '../src/di/container.ts';
import { createToken } from '../src/di/token.ts';
import { pluginKindToken, pluginToken } from '../src/di/tokens.ts';

const NUMBER = createToken<number>('test.number');
const NAME = createToken<string>('test.name');

test('register, resolve (last wins), resolveAll (in order), has', () => {
  const c = createContainer();
  assert.is(c.has(NUMBER), false);
  assert.equal(c.resolveAll(NUMBER), [], 'resolveAll of an unknown token is empty, not an error');
  c.register(NUMBER, 1);
  c.register(NUMBER, 2);
  assert.is(c.has(NUMBER), true);
  assert.is(c.resolve(NUMBER), 2);
  assert.equal(c.resolveAll(NUMBER), [1, 2]);
});

test('resolving an unknown token names it', () => {
  const c = createContainer();
  assert.throws(() => c.resolve(NAME), /nothing is registered for opendepot\.test\.name/);
});

test('tokens are registered symbols: two copies of core agree on them', () => {
  assert.is(createToken<number>('test.number'), NUMBER);
  assert.is(pluginToken('storage', 's3'), Symbol.for('opendepot.plugin.storage.s3'));
  assert.is(pluginKindToken('auth'), Symbol.for('opendepot.plugin.auth'));
});

test('containers are isolated; a child sees its parent, not the reverse', () => {
  const a = createContainer();
  const b = createContainer();
  a.register(NAME, 'a');
  assert.is(b.has(NAME), false, 'root containers share nothing');
  const child = a.createChild();
  assert.is(child.resolve(NAME), 'a');
  child.register(NUMBER, 7);
  assert.is(child.resolve(NUMBER), 7);
  assert.is(a.has(NUMBER), false);
});

test('dispose runs hooks newest first, once, and reports a failure after running all', async () => {
  const c = createContainer();
  const order: string[] = [];
  c.register(NAME, 'x', { dispose: () => order.push('first') });
  c.register(NAME, 'y', {
    dispose: () => {
      order.push('second');
      throw new Error('close failed');
    },
  });
  c.register(NAME, 'z', { dispose: async () => void order.push('third') });
  let error: unknown;
  try {
    await c.dispose();
  } catch (err) {
    error = err;
  }
  assert.match(String(error), /close failed/);
  assert.equal(order, ['third', 'second', 'first']);
  await c.dispose();
  assert.equal(order, ['third', 'second', 'first'], 'a second dispose does nothing');
  assert.throws(() => c.register(NAME, 'late'), /disposed/);
});

test.run();
