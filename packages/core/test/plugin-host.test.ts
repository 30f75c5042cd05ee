/** The plugin host: loads the plugins and the storage resolver, and closes them in order, once. */
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startPluginHost } from '../src/plugins/host.ts';
import { captureLogger } from './helpers/capture-logger.ts';

const fixtures = fileURLToPath(new URL('fixtures/plugins/', import.meta.url));
const events = ((globalThis as { __opendepotFixtureEvents?: Array<Record<string, unknown>> }).__opendepotFixtureEvents ??= []);

test('close aborts the plugins signal, closes the storage instances before the plugin instances, and runs once', async () => {
  const host = await startPluginHost(
    {
      plugins: [{ path: 'good-scanner', config: { severity: 'HIGH' } }, { path: 'good-storage' }],
      storage: { profiles: { data: { fixturefs: { root: '/data' } } } },
    },
    { logger: captureLogger().logger, baseDir: fixtures },
  );
  assert.equal(
    host.registry.plugins.map((p) => p.name),
    ['fixture-scanner', 'fixturefs'],
  );
  await host.storage.resolve({ profile: 'data' });
  events.length = 0;

  await Promise.all([host.close(), host.close()]);
  await host.close();
  assert.ok(host.signal.aborted, 'the plugins see the shutdown');
  assert.equal(
    events.map((e) => `${e.event} ${e.plugin}`),
    ['close fixturefs', 'close fixture-scanner'],
    'storage instances are made from the registry, so they close first; each closes once',
  );
  let refused: unknown;
  try {
    await host.storage.resolve({ profile: 'data' });
  } catch (err) {
    refused = err;
  }
  assert.match(String(refused), /closed/, 'no storage instance is made after close');
});

test.run();
