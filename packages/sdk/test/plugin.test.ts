/** definePlugin and its brand, including across copies of the SDK. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin, isPlugin, PLUGIN_API_VERSION, PLUGIN_BRAND, PLUGIN_KINDS } from '../src/index.ts';
import { importCopy } from './copies.ts';

type PluginModule = typeof import('../src/plugin.ts');

const definition = {
  kind: 'storage' as const,
  name: 'nowhere',
  apiVersion: PLUGIN_API_VERSION,
  configSchema: { type: 'object' },
  create: () => {
    throw new Error('not called');
  },
};

test('definePlugin returns a frozen, branded copy of the definition', () => {
  const plugin = definePlugin(definition);
  assert.ok(isPlugin(plugin));
  assert.ok(Object.isFrozen(plugin));
  assert.is(plugin.name, 'nowhere');
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.create, definition.create);
  assert.is(plugin[PLUGIN_BRAND], true);
  assert.is.not(plugin as unknown, definition);
});

test('the brand is the registered symbol opendepot.plugin', () => {
  assert.is(PLUGIN_BRAND, Symbol.for('opendepot.plugin'));
  // A plain object branded by code that has never seen this module is recognised.
  assert.ok(isPlugin({ ...definition, [Symbol.for('opendepot.plugin')]: true }));
});

test('a plugin defined with another copy of the SDK is recognised, and vice versa', async () => {
  const other = await importCopy<PluginModule>('plugin.ts');
  assert.is.not(other.definePlugin, definePlugin, 'the copy must be a separate module instance');
  assert.ok(isPlugin(other.definePlugin(definition)));
  assert.ok(other.isPlugin(definePlugin(definition)));
  assert.is(other.PLUGIN_API_VERSION, PLUGIN_API_VERSION);
});

test('isPlugin refuses look-alikes', () => {
  assert.not.ok(isPlugin({ ...definition }));
  assert.not.ok(isPlugin({ ...definition, [Symbol('opendepot.plugin')]: true }), 'an unregistered symbol of the same description');
  assert.not.ok(isPlugin({ ...definition, [Symbol.for('opendepot.plugin')]: 'yes' }));
  assert.not.ok(isPlugin(null));
  assert.not.ok(isPlugin('plugin'));
  assert.not.ok(isPlugin(undefined));
});

test('the four plugin kinds', () => {
  assert.equal([...PLUGIN_KINDS].sort(), ['archive-source', 'auth', 'scanner', 'storage']);
});

test.run();
