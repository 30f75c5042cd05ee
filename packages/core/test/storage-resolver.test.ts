/** The storage resolver: storageConfig key → storage plugin, config validated, one instance per config. */
import { fileURLToPath } from 'node:url';
import { definePlugin, isOpenDepotError, PLUGIN_API_VERSION, type StorageBackend } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContainer } from '../src/di/container.ts';
import { toCondition } from '../src/errors/condition.ts';
import { loadPlugins } from '../src/plugins/loader.ts';
import { pluginRegistryOf, type PluginRegistry } from '../src/plugins/registry.ts';
import { createStorageResolver, type StorageResolverContext } from '../src/plugins/storage-resolver.ts';
import { captureLogger } from './helpers/capture-logger.ts';

const fixtures = fileURLToPath(new URL('fixtures/plugins/', import.meta.url));
const events = ((globalThis as { __opendepotFixtureEvents?: Array<Record<string, unknown>> }).__opendepotFixtureEvents ??= []);

async function fixtureRegistry(): Promise<PluginRegistry> {
  return loadPlugins([{ path: 'good-storage' }], { container: createContainer(), logger: captureLogger().logger, baseDir: fixtures });
}

function context(extra: Partial<StorageResolverContext> = {}): StorageResolverContext {
  return { logger: captureLogger().logger, ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

test('the backend key selects the plugin; presign is not a backend; config gets schema defaults', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  events.length = 0;
  const backend = (await resolver.resolve({ fixturefs: { root: '/data' }, presign: { enabled: true } }, 'spec.storageConfig')) as StorageBackend & { config: unknown };
  assert.equal(backend.config, { root: '/data', mode: 'safe' });
  assert.equal(events, [{ event: 'create', plugin: 'fixturefs', config: { root: '/data', mode: 'safe' }, configPath: 'spec.storageConfig.fixturefs' }]);
  await backend.put('a', (async function* () { yield new Uint8Array([1, 2, 3]); })());
  assert.is((await backend.stat('a')).size, 3);
  await resolver.close();
});

test('one instance per distinct config, whatever the key order; concurrent resolves share it', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  events.length = 0;
  const [a, b] = await Promise.all([
    resolver.resolve({ fixturefs: { root: '/data', mode: 'fast' } }),
    resolver.resolve({ fixturefs: { mode: 'fast', root: '/data' } }),
  ]);
  const c = await resolver.resolve({ fixturefs: { root: '/data', mode: 'safe' } });
  const d = await resolver.resolve({ fixturefs: { root: '/data' } });
  assert.is(a, b);
  assert.is.not(a, c);
  assert.is(c, d, 'a config equal after defaults is the same config');
  assert.is(events.filter((e) => e.event === 'create').length, 2);
  await resolver.close();
  assert.equal(events.filter((e) => e.event === 'close').map((e) => e.root), ['/data', '/data']);
  const closed = await rejection(resolver.resolve({ fixturefs: { root: '/data' } }));
  assert.match(closed.message, /closed/);
});

test('an unknown key names the field and lists the installed storage plugins', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  const err = await rejection(resolver.resolve({ foo: { x: 1 } }, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'input'));
  assert.is((err as { field?: string }).field, 'spec.storageConfig.foo');
  assert.match(err.message, /^spec\.storageConfig\.foo: no storage plugin named "foo" is installed \(installed storage plugins: fixturefs\)/);
  assert.match((err as { hint?: string }).hint ?? '', /Install the storage plugin named "foo"/);
  const s3 = await rejection(resolver.resolve({ s3: { bucket: 'b', region: 'r' } }, 'spec.storageConfig'));
  assert.match((s3 as { hint?: string }).hint ?? '', /Add @opendepot\/plugin-s3 to plugins:/);
  assert.is(toCondition(s3).reason, 'InvalidInput');
  assert.is(toCondition(s3).transient, false);
});

test('a config that fails the plugin schema names the field', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  const err = await rejection(resolver.resolve({ fixturefs: { root: 'relative', extra: true } }, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'input'));
  assert.match(err.message, /spec\.storageConfig\.fixturefs\.root: must match the pattern \^\/, not "relative"/);
  assert.match(err.message, /spec\.storageConfig\.fixturefs\.extra: is not a known field/);
  assert.is((err as { field?: string }).field, 'spec.storageConfig.fixturefs.extra', 'the field of the first problem');
  const notObject = await rejection(resolver.resolve({ fixturefs: 'yes' } as never, 'spec.storageConfig'));
  assert.match(notObject.message, /spec\.storageConfig\.fixturefs must be an object/);
});

test('zero or two backends are refused', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  assert.match((await rejection(resolver.resolve({ presign: { enabled: true } }, 'spec.global.storageConfig'))).message, /^spec\.global\.storageConfig names no storage backend/);
  const two = await rejection(resolver.resolve({ fixturefs: { root: '/a' }, filesystem: { path: '/b' } }));
  assert.match(two.message, /^storageConfig names 2 storage backends \(fixturefs, filesystem\), but exactly one is allowed/);
});

test('no storageConfig: the default, or a clear error when there is none', async () => {
  const registry = await fixtureRegistry();
  const without = createStorageResolver(registry, context());
  const err = await rejection(without.resolve(undefined, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'input'));
  assert.match(err.message, /^spec\.storageConfig is not set and no default storage is configured/);
  assert.match((err as { hint?: string }).hint ?? '', /defaultStorageConfig in the Helm values/);

  const withDefault = createStorageResolver(registry, context({ defaultStorageConfig: { fixturefs: { root: '/default' } } }));
  const backend = (await withDefault.resolve(undefined, 'spec.storageConfig')) as StorageBackend & { config: { root: string } };
  assert.is(backend.config.root, '/default');
  assert.is(withDefault.check(undefined).where, 'defaultStorageConfig');
  assert.throws(
    () => createStorageResolver(registry, context({ defaultStorageConfig: { fixturefs: {} } })),
    /defaultStorageConfig\.fixturefs\.root: is required/,
    'a bad default fails at start-up, not at the first resource',
  );
  assert.throws(() => createStorageResolver(registry, context({ defaultStorageConfig: { gcs: { bucket: 'b' } } })), /defaultStorageConfig\.gcs: no storage plugin named "gcs"/);
  await withDefault.close();
});

test('a transient create failure keeps its code, is not memoised, and maps to a transient condition', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context());
  const err = await rejection(resolver.resolve({ fixturefs: { root: '/x', failCreate: true } }, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'unavailable'));
  assert.match(err.message, /^spec\.storageConfig\.fixturefs: the fixturefs storage plugin could not start: backend unreachable/);
  assert.equal(toCondition(err), { reason: 'UpstreamUnavailable', message: err.message, transient: true, retryAfterMs: 2500 });
  const again = await rejection(resolver.resolve({ fixturefs: { root: '/x', failCreate: true } }));
  assert.is.not(again, err, 'the failed attempt was not cached');
});

test('works over in-memory definitions too (pluginRegistryOf)', async () => {
  const calls: unknown[] = [];
  const plugin = definePlugin({
    kind: 'storage',
    name: 'memory',
    apiVersion: PLUGIN_API_VERSION,
    configSchema: { type: 'object', properties: { label: { type: 'string' } } },
    create: (config: { label?: string }) => {
      calls.push(config);
      return { capabilities: { presign: false }, put: async () => ({ key: '', size: 0, sha256: '' }), get: async () => { throw new Error('x'); }, stat: async () => ({ key: '', size: 0, sha256: '' }), delete: async () => {} };
    },
  });
  const resolver = createStorageResolver(pluginRegistryOf(plugin), context());
  const selected = resolver.check({ memory: { label: 'a' }, presign: { enabled: false } }, 'spec.storageConfig');
  assert.equal([selected.key, selected.config, selected.presign, selected.where], ['memory', { label: 'a' }, { enabled: false }, 'spec.storageConfig']);
  await resolver.resolve({ memory: { label: 'a' } });
  assert.equal(calls, [{ label: 'a' }]);
});

test('an instance without the storage methods is refused', async () => {
  const plugin = definePlugin({ kind: 'storage', name: 'broken', apiVersion: PLUGIN_API_VERSION, configSchema: { type: 'object' }, create: () => ({ capabilities: { presign: true } }) as never });
  const resolver = createStorageResolver(pluginRegistryOf(plugin), context());
  const err = await rejection(resolver.resolve({ broken: {} }));
  assert.match(err.message, /storageConfig\.broken: the broken storage plugin is broken: create\(\) returned a storage instance without put\(\), get\(\), stat\(\), delete\(\)/);
});

test.run();
