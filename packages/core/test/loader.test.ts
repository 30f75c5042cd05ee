/** The plugin loader: every failure mode stops loading with one error naming plugin, path, problem and fix. */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOpenDepotError, type AuthProvider, type Scanner } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPlugins, type LoadPluginsOptions } from '../src/plugins/loader.ts';
import { PluginLoadError } from '../src/plugins/plugin-load-error.ts';
import type { PluginEntry } from '../src/plugins/entry.ts';
import { captureLogger } from './helpers/capture-logger.ts';

const fixtures = fileURLToPath(new URL('fixtures/plugins/', import.meta.url));
const events = ((globalThis as { __opendepotFixtureEvents?: Array<Record<string, unknown>> }).__opendepotFixtureEvents ??= []);

function options(extra: Partial<LoadPluginsOptions> = {}): LoadPluginsOptions {
  return { logger: captureLogger().logger, baseDir: fixtures, ...extra };
}

/** Loads `entries`, expecting a PluginLoadError; returns it. */
async function loadError(entries: PluginEntry[], extra: Partial<LoadPluginsOptions> = {}): Promise<PluginLoadError> {
  try {
    await loadPlugins(entries, options(extra));
  } catch (err) {
    assert.instance(err, PluginLoadError);
    assert.ok(isOpenDepotError(err), 'a PluginLoadError is an OpenDepot error');
    return err as PluginLoadError;
  }
  assert.unreachable('loadPlugins resolved, but it must fail closed');
  throw new Error('unreachable');
}

const goodScanner: PluginEntry = { path: 'good-scanner', config: { severity: 'HIGH' } };

test('loads plugins in order, validates config with defaults, keeps instances and definitions in the registry', async () => {
  const { logger, lines } = captureLogger();
  const registry = await loadPlugins([goodScanner, { path: 'good-storage', kind: 'storage' }, { path: 'foreign-sdk/index.js' }, { path: 'not-a-plugin', enabled: false }], {
    logger,
    baseDir: fixtures,
  });
  assert.equal(
    registry.plugins.map((p) => `${p.kind}/${p.name}@${p.configPath}`),
    ['scanner/fixture-scanner@plugins[0]', 'storage/fixturefs@plugins[1]', 'auth/foreign-auth@plugins[2]'],
  );
  const scanner = registry.find('scanner', 'fixture-scanner')?.instance as Scanner & { config: unknown; context: { configPath: string } };
  assert.equal(scanner.config, { severity: 'HIGH', timeoutSeconds: 30 }, 'schema defaults are applied');
  assert.is(scanner.context.configPath, 'plugins[0].config');
  assert.equal(goodScanner.config, { severity: 'HIGH' }, 'the configured object is not modified');
  assert.is(registry.instances('scanner').length, 1);
  assert.is((registry.instances('auth')[0] as AuthProvider & { realm: string }).realm, 'opendepot');
  assert.is(registry.instances('storage').length, 0, 'storage instances are made per storageConfig');
  assert.ok(registry.find('storage', 'fixturefs')?.definition, 'the storage definition is kept');

  const loaded = lines().filter((l) => l.msg === 'plugin loaded');
  assert.equal(
    loaded.map((l) => [l.kind, l.name, l.package, l.version, l.configPath]),
    [
      ['scanner', 'fixture-scanner', 'opendepot-fixture-good-scanner', '1.2.3', 'plugins[0]'],
      ['storage', 'fixturefs', 'opendepot-fixture-good-storage', '1.2.3', 'plugins[1]'],
      ['auth', 'foreign-auth', 'opendepot-fixture-foreign-sdk', '1.2.3', 'plugins[2]'],
    ],
  );
  const ready = lines().find((l) => l.msg === 'scanner ready');
  assert.is(ready?.plugin, 'fixture-scanner', "the plugin's logger is scoped to it");

  events.length = 0;
  await registry.close();
  await registry.close();
  assert.equal(events, [{ event: 'close', plugin: 'fixture-scanner' }], 'closing the registry closes the instances, once');
});

test('resolves packages by name from the plugins directory, including import-only packages', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-plugins-'));
  try {
    await mkdir(join(dir, 'node_modules', '@opendepot-fixtures'), { recursive: true });
    await symlink(join(fixtures, 'good-scanner'), join(dir, 'node_modules', 'opendepot-fixture-good-scanner'), 'dir');
    await symlink(join(fixtures, 'esm-only'), join(dir, 'node_modules', '@opendepot-fixtures', 'esm-only'), 'dir');
    const registry = await loadPlugins(
      [{ package: 'opendepot-fixture-good-scanner', config: { severity: 'LOW' } }, { package: '@opendepot-fixtures/esm-only' }],
      options({ pluginsDir: dir, baseDir: tmpdir() }),
    );
    assert.equal(
      registry.plugins.map((p) => [p.name, p.packageName, p.version]),
      [
        ['fixture-scanner', 'opendepot-fixture-good-scanner', '1.2.3'],
        ['esm-only', '@opendepot-fixtures/esm-only', '0.4.0'],
      ],
    );
    await registry.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a package offering several plugins: each entry names one by its subpath', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-plugins-'));
  try {
    await mkdir(join(dir, 'node_modules', '@opendepot-fixtures'), { recursive: true });
    await symlink(join(fixtures, 'multi-plugin'), join(dir, 'node_modules', '@opendepot-fixtures', 'multi-plugin'), 'dir');
    const registry = await loadPlugins(
      [{ package: '@opendepot-fixtures/multi-plugin/second', config: { level: 'x' } }, { package: '@opendepot-fixtures/multi-plugin/first' }],
      options({ pluginsDir: dir, baseDir: tmpdir() }),
    );
    assert.equal(
      registry.plugins.map((p) => [p.name, p.packageName, p.version, p.source]),
      [
        ['multi-second', '@opendepot-fixtures/multi-plugin', '2.0.0', '@opendepot-fixtures/multi-plugin/second'],
        ['multi-first', '@opendepot-fixtures/multi-plugin', '2.0.0', '@opendepot-fixtures/multi-plugin/first'],
      ],
    );
    await registry.close();
    const err = await loadError([{ package: '@opendepot-fixtures/multi-plugin/third' }], { pluginsDir: dir, baseDir: tmpdir() });
    assert.is(err.problem, 'not-installed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('defaults: loaded after the configured entries, unless an entry lists their package or loads a plugin of the same kind and name', async () => {
  const defaults: PluginEntry[] = [goodScanner, { path: 'esm-only', config: {} }];
  const both = await loadPlugins([{ path: 'good-storage' }], options({ defaults, defaultsPath: 'host defaults' }));
  assert.equal(
    both.plugins.map((p) => `${p.name}@${p.configPath}`),
    ['fixturefs@plugins[0]', 'fixture-scanner@host defaults[0]', 'esm-only@host defaults[1]'],
  );
  await both.close();
  // A configured plugin of the same kind and name replaces the default, with its own config.
  const replaced = await loadPlugins([{ path: 'good-scanner/index.js', config: { severity: 'LOW' } }], options({ defaults }));
  assert.equal(
    replaced.plugins.map((p) => `${p.name}@${p.configPath}`),
    ['fixture-scanner@plugins[0]', 'esm-only@default plugins[1]'],
  );
  assert.equal((replaced.instances('scanner')[0] as unknown as { config: unknown }).config, { severity: 'LOW', timeoutSeconds: 30 });
  await replaced.close();
  // Listing a default's package, even disabled, leaves the default out: that is how one is removed.
  // (Were it not left out, it would fail: the package is not installed where these tests look.)
  const byPackage: PluginEntry[] = [{ package: 'opendepot-fixture-good-scanner', config: { severity: 'HIGH' } }];
  const removed = await loadPlugins([{ package: 'opendepot-fixture-good-scanner', enabled: false }], options({ defaults: byPackage }));
  assert.equal(
    removed.plugins.map((p) => p.name),
    [],
  );
  // A default that fails is a load error like any other, named by its path.
  const err = await loadError([], { defaults: [{ path: 'good-scanner', config: { severity: 'NOPE' } }], defaultsPath: 'host defaults' });
  assert.is(err.configPath, 'host defaults[0]');
});

test("resolves packages from the host package's own dependencies, with no plugins directory", async () => {
  // As in the image: the config file sits in /etc/opendepot, far from any node_modules, and the
  // first-party plugins are dependencies of the host package (here a fixture host with its own node_modules).
  const host = await mkdtemp(join(tmpdir(), 'opendepot-host-'));
  const configDir = await mkdtemp(join(tmpdir(), 'opendepot-etc-'));
  try {
    await mkdir(join(host, 'node_modules'), { recursive: true });
    await mkdir(join(host, 'dist'));
    await symlink(join(fixtures, 'good-scanner'), join(host, 'node_modules', 'opendepot-fixture-good-scanner'), 'dir');
    const entries: PluginEntry[] = [{ package: 'opendepot-fixture-good-scanner', config: { severity: 'LOW' } }];
    const err = await loadError(entries, { baseDir: configDir });
    assert.match(err.message, /not installed/, 'without the host directory it is not found');
    const registry = await loadPlugins(entries, options({ baseDir: configDir, hostDir: join(host, 'dist') }));
    assert.equal(
      registry.plugins.map((p) => p.packageName),
      ['opendepot-fixture-good-scanner'],
    );
    await registry.close();
  } finally {
    await rm(host, { recursive: true, force: true });
    await rm(configDir, { recursive: true, force: true });
  }
});

test('skipKinds: a host leaves out the kinds it does not use (the operator: auth), unresolved when the entry declares its kind', async () => {
  // A declared auth entry is not even resolved (the operator need not have the package installed).
  const registry = await loadPlugins([goodScanner, { package: '@opendepot/plugin-not-installed-here', kind: 'auth' }, { path: 'foreign-sdk/index.js' }], {
    ...options(),
    skipKinds: ['auth'],
  });
  assert.equal(
    registry.plugins.map((p) => p.name),
    ['fixture-scanner'],
    'the undeclared auth plugin is checked but not created',
  );
  assert.is(registry.ofKind('auth').length, 0);
  // Without skipKinds the same declared entry is a load error: nothing is skipped silently.
  const err = await loadError([{ package: '@opendepot/plugin-not-installed-here', kind: 'auth' }]);
  assert.is(err.problem, 'not-installed');
  await registry.close();
});

test('a package that is not installed', async () => {
  const err = await loadError([goodScanner, { package: '@opendepot/plugin-does-not-exist' }]);
  assert.is(err.problem, 'not-installed');
  assert.is(err.plugin, '@opendepot/plugin-does-not-exist');
  assert.is(err.configPath, 'plugins[1]');
  assert.is(err.field, 'plugins[1].package');
  assert.match(err.message, /^Cannot load plugin "@opendepot\/plugin-does-not-exist" \(plugins\[1\]\): package @opendepot\/plugin-does-not-exist is not installed/);
  assert.match(err.message, /Fix: install it into the image or the plugins directory/);
});

test('a path that does not exist', async () => {
  const err = await loadError([{ path: 'no-such-dir' }]);
  assert.is(err.problem, 'not-installed');
  assert.is(err.field, 'plugins[0].path');
  assert.match(err.message, /plugin "no-such-dir" \(plugins\[0\]\): path no-such-dir does not exist/);
});

test('a directory without an entry module', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-empty-plugin-'));
  try {
    const err = await loadError([{ path: dir }]);
    assert.is(err.problem, 'not-installed');
    assert.match(err.message, /has no entry module/);
    assert.match(err.message, /Fix: point path at the plugin's module file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a module that throws while it is imported', async () => {
  const err = await loadError([{ path: 'throws-on-import' }]);
  assert.is(err.problem, 'import-failed');
  assert.match(err.message, /plugin "throws-on-import" \(plugins\[0\]\): importing .*throws-on-import\/index\.js failed: fixture exploded during import/);
  assert.match(err.message, /Fix: throws-on-import throws while it is imported/);
});

test('a module whose own dependency is missing', async () => {
  const err = await loadError([{ path: 'missing-dep' }]);
  assert.is(err.problem, 'import-failed');
  assert.match(err.message, /opendepot-fixture-dependency-that-is-not-installed/);
  assert.match(err.message, /Fix: a module that missing-dep imports is missing: reinstall missing-dep together with its dependencies/);
});

test('a module whose default export is not a plugin', async () => {
  const err = await loadError([{ path: 'not-a-plugin' }]);
  assert.is(err.problem, 'not-a-plugin');
  assert.match(err.message, /plugin "not-a-plugin" \(plugins\[0\]\): its default export is an object with keys hello, not a plugin\. Fix: make the module `export default definePlugin/);
});

test('a plugin exported by name only', async () => {
  const err = await loadError([{ path: 'named-export-only' }]);
  assert.is(err.problem, 'not-a-plugin');
  assert.match(err.message, /exports a plugin as "scannerPlugin" but has no plugin as its default export\. Fix: export it as the default export/);
});

test('a definition that did not go through definePlugin', async () => {
  const err = await loadError([{ path: 'unbranded' }]);
  assert.is(err.problem, 'not-a-plugin');
  assert.match(err.message, /looks like a plugin definition but was not made by definePlugin\(\)\. Fix: wrap the definition/);
});

test('a plugin written for another API version', async () => {
  const err = await loadError([{ path: 'wrong-api-version' }]);
  assert.is(err.problem, 'wrong-api-version');
  assert.match(
    err.message,
    /plugin "wrong-api-version" \(plugins\[0\]\): it was written for plugin API "opendepot\.defdev\.io\/plugin\/v9", but this OpenDepot implements "opendepot\.defdev\.io\/plugin\/v1"/,
  );
  assert.match(err.message, /Fix: use a release of wrong-api-version written for opendepot\.defdev\.io\/plugin\/v1/);
});

test('config that fails the plugin schema: every problem, named by field', async () => {
  const err = await loadError([{ path: 'good-scanner', config: { severity: 'SEVERE', timeoutSeconds: 'soon', apiToken: 'short-secret-value', extra: 1 } }]);
  assert.is(err.problem, 'invalid-config');
  assert.is(err.field, 'plugins[0].config.extra');
  assert.match(err.message, /plugin "good-scanner" \(plugins\[0\]\): its config is invalid: /);
  assert.match(err.message, /plugins\[0\]\.config\.extra: is not a known field \(known fields: severity, timeoutSeconds, apiToken\)/);
  assert.match(err.message, /plugins\[0\]\.config\.severity: must be one of "LOW", "MEDIUM", "HIGH", "CRITICAL", not "SEVERE"/);
  assert.match(err.message, /plugins\[0\]\.config\.timeoutSeconds: must be an integer, not the string "soon"/);
  assert.match(err.message, /plugins\[0\]\.config\.apiToken: must NOT have fewer than 20 characters/);
  assert.not.match(err.message, /short-secret-value/, 'the value of a secret-looking field is never echoed');
  assert.match(err.message, /Fix: correct plugins\[0\]\.config in the values file/);
});

test('missing config counts as {} and is validated', async () => {
  const err = await loadError([{ path: 'good-scanner' }]);
  assert.match(err.message, /plugins\[0\]\.config\.severity: is required/);
});

test('a plugin whose own configSchema is broken', async () => {
  const err = await loadError([{ path: 'bad-schema' }]);
  assert.is(err.problem, 'invalid-schema');
  assert.match(err.message, /its configSchema is not a valid JSON Schema: schema is invalid/);
  assert.match(err.message, /Fix: report it to the authors of bad-schema/);
});

test('create() throws: the plugin error keeps its field under the config path, and secrets are scrubbed', async () => {
  const err = await loadError([goodScanner, { path: 'create-throws', config: { endpoint: 'https://admin:hunter2@db.example' } }]);
  assert.is(err.problem, 'create-failed');
  assert.is(err.configPath, 'plugins[1]');
  assert.is(err.field, 'plugins[1].config.endpoint');
  assert.is(err.code, 'input');
  assert.match(
    err.message,
    /plugin "create-throws" \(plugins\[1\]\): create\(\) failed: cannot reach https:\/\/admin:\[REDACTED\]@db\.example: connection refused\. Fix: Check that the endpoint is reachable from the pod\./,
  );
  assert.not.match(err.message, /hunter2/);
});

test('create() throws after others were created: those are closed', async () => {
  events.length = 0;
  await loadError([goodScanner, { path: 'create-throws', config: { endpoint: 'x' } }]);
  assert.equal(
    events.map((e) => e.event),
    ['create', 'close'],
  );
});

test('create() that never finishes times out', async () => {
  const err = await loadError([{ path: 'create-hangs' }], { createTimeoutMs: 30 });
  assert.is(err.problem, 'create-failed');
  assert.match(err.message, /create\(\) failed: create\(\) did not finish within 30 ms\. Fix: check that what create-hangs connects to at start-up is reachable/);
});

test('create() that returns something unusable', async () => {
  const err = await loadError([{ path: 'bad-instance' }]);
  assert.is(err.problem, 'create-failed');
  assert.match(err.message, /create\(\) returned a scanner instance without scan\(\)/);
});

test('a plugin of another kind than the entry says', async () => {
  const err = await loadError([{ ...goodScanner, kind: 'auth' }]);
  assert.is(err.problem, 'wrong-kind');
  assert.is(err.field, 'plugins[0].kind');
  assert.match(err.message, /it is a scanner plugin, but the entry says kind: auth/);
});

test('the same plugin twice', async () => {
  const err = await loadError([goodScanner, { path: 'good-scanner/index.js', config: { severity: 'LOW' } }]);
  assert.is(err.problem, 'duplicate');
  assert.is(err.configPath, 'plugins[1]');
  assert.match(err.message, /plugins\[0\] already loads the scanner plugin "fixture-scanner"\. Fix: remove one of plugins\[0\] and plugins\[1\]/);
});

test('config given to a storage plugin', async () => {
  const err = await loadError([{ path: 'good-storage', config: { root: '/data' } }]);
  assert.is(err.problem, 'unexpected-config');
  assert.is(err.field, 'plugins[0].config');
  assert.match(err.message, /storage plugins take their config from each resource's storageConfig\.fixturefs/);
  assert.match(err.message, /Fix: remove plugins\[0\]\.config; to give resources without storageConfig this backend, set defaultStorageConfig: \{ fixturefs: \{\.\.\.\} \}/);
});

test('malformed entries', async () => {
  const both = await loadError([{ package: 'x', path: 'y' }]);
  assert.is(both.problem, 'invalid-entry');
  assert.match(both.message, /plugins\[0\]: set only one of package and path/);
  const neither = await loadError([{ config: {} }]);
  assert.match(neither.message, /plugins\[0\]: set package \(an npm package name\) or path/);
  const local = await loadError([{ package: './my-plugin' }]);
  assert.match(local.message, /plugins\[0\]\.package: "\.\/my-plugin" is a file path, not a package name: use path:/);
  const typo = await loadError([{ path: 'good-scanner', configs: {} } as PluginEntry]);
  assert.match(typo.message, /plugins\[0\]\.configs: is not a known field \(known fields: package, path, kind, enabled, config\)/);
});

test('all problems found before create() are reported together', async () => {
  const err = await loadError([goodScanner, { path: 'not-a-plugin' }, { package: 'opendepot-fixture-absent' }]);
  assert.is(err.failures.length, 2);
  assert.equal(
    err.failures.map((f) => [f.configPath, f.problem]),
    [
      ['plugins[1]', 'not-a-plugin'],
      ['plugins[2]', 'not-installed'],
    ],
  );
  assert.match(err.message, /^Cannot load 2 configured plugins:\n- plugin "not-a-plugin" \(plugins\[1\]\): .*\n- plugin "opendepot-fixture-absent" \(plugins\[2\]\): /);
});

test('no plugins configured is not an error', async () => {
  const registry = await loadPlugins(undefined, options());
  assert.equal(registry.plugins, []);
});

test.run();
