/** The package as the host loads it: a branded storage plugin named `filesystem`. */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { configSchema, FilesystemStorage } from '../src/index.ts';
import { pluginContext, recordingLogger, TempDirs } from './context.ts';

const dirs = new TempDirs();
test.after.each(() => dirs.removeAll());

test('default export: a branded storage plugin named filesystem, for this plugin API', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'storage');
  assert.is(plugin.name, 'filesystem', 'the storageConfig key that selects it');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
});

test('the config schema is draft-07, requires an absolute path and documents every property', () => {
  assert.is(configSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.is(configSchema.type, 'object');
  assert.equal(configSchema.required, ['path']);
  assert.is(configSchema.additionalProperties, false);
  assert.type(configSchema.description, 'string');
  const properties = configSchema.properties as Record<string, { type: string; description?: string; pattern?: string }>;
  assert.equal(Object.keys(properties), ['path', 'root']);
  for (const p of Object.values(properties)) assert.ok((p.description ?? '').length > 20);
  assert.is(properties.path!.type, 'string');
  assert.ok(new RegExp(properties.path!.pattern!).test('/data/opendepot'));
  assert.not.ok(new RegExp(properties.path!.pattern!).test('data/opendepot'));
});

test('create makes a ready FilesystemStorage, creating the directory', async () => {
  const path = join(await dirs.make(), 'new', 'dir');
  const storage = await plugin.create({ path }, pluginContext());
  assert.instance(storage, FilesystemStorage);
  assert.is(storage.capabilities.presign, false);
  assert.is((storage as FilesystemStorage).root, path);
  await storage.put(
    'x',
    (async function* () {
      yield Buffer.from('x');
    })(),
  );
});

test('create fails with an input error naming the config path when the directory is unusable', async () => {
  const file = join(await dirs.make(), 'a-file');
  await writeFile(file, '');
  for (const path of [file, join(file, 'below'), 'relative']) {
    try {
      await plugin.create({ path }, pluginContext(recordingLogger()));
    } catch (err) {
      assert.ok(isOpenDepotError(err, 'input'), String(err));
      assert.is((err as { field?: string }).field, 'storageConfig.filesystem.path');
      assert.match((err as Error).message, path);
      continue;
    }
    assert.unreachable(`create accepted ${path}`);
  }
});

test('a path outside the root is refused and nothing is created there, symlinks included', async () => {
  const root = join(await dirs.make(), 'root');
  const outside = await dirs.make();
  await mkdir(root);
  // A link inside the root that points out of it: the real path decides, not the spelling.
  await symlink(outside, join(root, 'escape'));
  const cases = [outside, join(root, '..', 'sibling'), join(root, 'escape'), join(root, 'escape', 'deeper', 'dir')];
  for (const path of cases) {
    try {
      await plugin.create({ path, root }, pluginContext(recordingLogger()));
    } catch (err) {
      assert.ok(isOpenDepotError(err, 'input'), String(err));
      assert.is((err as { field?: string }).field, 'storageConfig.filesystem.path');
      assert.match((err as Error).message, /is outside the storage root/);
      assert.match((err as Error).message, root);
      continue;
    }
    assert.unreachable(`create accepted ${path} outside ${root}`);
  }
  assert.equal(await readdir(outside), [], 'nothing was created outside the root');
});

test('a path inside the root is used; the root defaults to the path itself', async () => {
  const root = await dirs.make();
  const storage = (await plugin.create({ path: join(root, 'team-a', 'modules'), root }, pluginContext())) as FilesystemStorage;
  assert.is(storage.root, join(root, 'team-a', 'modules'));
  assert.is(storage.boundary, root);
  const alone = (await plugin.create({ path: root }, pluginContext())) as FilesystemStorage;
  assert.is(alone.boundary, root);
});

test.run();
