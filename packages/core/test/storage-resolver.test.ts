/**
 * The storage resolver under storage profiles: a resource picks a profile (by name, or by the
 * backend it names) and may set only the profile's tenant-settable fields; the merged config is
 * validated against the plugin's schema; one instance per merged config. A refused config
 * creates nothing, reads no Secret and sends nothing.
 */
import { fileURLToPath } from 'node:url';
import { definePlugin, isOpenDepotError, PLUGIN_API_VERSION, type PluginContext, type StorageBackend } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { storageSettingsProblems } from '../src/config/storage-profiles.ts';
import { toCondition } from '../src/errors/condition.ts';
import { loadPlugins } from '../src/plugins/loader.ts';
import { pluginRegistryOf, type PluginRegistry } from '../src/plugins/registry.ts';
import { createStorageResolver, type StorageResolverContext } from '../src/plugins/storage-resolver.ts';
import { captureLogger } from './helpers/capture-logger.ts';

const fixtures = fileURLToPath(new URL('fixtures/plugins/', import.meta.url));
const events = ((globalThis as { __opendepotFixtureEvents?: Array<Record<string, unknown>> }).__opendepotFixtureEvents ??= []);

async function fixtureRegistry(): Promise<PluginRegistry> {
  return loadPlugins([{ path: 'good-storage' }], { logger: captureLogger().logger, baseDir: fixtures });
}

function context(extra: Partial<StorageResolverContext> = {}): StorageResolverContext {
  return { logger: captureLogger().logger, ...extra };
}

/** Profiles over the fixture plugin (`fixturefs`: root, mode, failCreate). */
const FIXTURE_PROFILES = { storage: { profiles: { data: { fixturefs: { root: '/data' } } } } };

async function rejection(promise: Promise<unknown>): Promise<Error & { field?: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

/**
 * An in-memory S3-like storage plugin that records every create and every Secret read, so a
 * test can prove a refused config reached neither.
 */
function recordingPlugin(name = 'objects') {
  const created: Array<Record<string, unknown>> = [];
  const secretsRead: string[] = [];
  const plugin = definePlugin({
    kind: 'storage',
    name,
    apiVersion: PLUGIN_API_VERSION,
    configSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['bucket', 'region'],
      properties: {
        bucket: { type: 'string' },
        region: { type: 'string' },
        prefix: { type: 'string' },
        endpoint: { type: 'string' },
        accountUrl: { type: 'string' },
        forcePathStyle: { type: 'boolean' },
        credentialsSecretRef: { type: 'object', properties: { name: { type: 'string' } } },
        tier: { type: 'string', default: 'hot' },
      },
    },
    create: async (config: Record<string, unknown>, ctx: PluginContext) => {
      created.push(config);
      const ref = config.credentialsSecretRef as { name: string } | undefined;
      if (ref) secretsRead.push(`${ref.name}:${await ctx.readSecret!(ref.name, 'key')}`);
      return {
        config,
        capabilities: { presign: false },
        put: async () => ({ key: '', size: 0, sha256: '' }),
        get: async () => {
          throw new Error('x');
        },
        stat: async () => ({ key: '', size: 0, sha256: '' }),
        delete: async () => {},
      };
    },
  });
  return { plugin, created, secretsRead };
}

const platform = {
  bucket: 'platform-modules',
  region: 'us-west-2',
  endpoint: 'https://s3.us-west-2.amazonaws.com',
  credentialsSecretRef: { name: 'platform-s3' },
};
const readSecret = async (name: string, key: string) => `${name}/${key}`;

test('a profile selects the plugin; the resource presign stays; config gets schema defaults and the resource path', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context(FIXTURE_PROFILES));
  events.length = 0;
  const backend = (await resolver.resolve({ profile: 'data', presign: { enabled: true } }, 'spec.storageConfig')) as StorageBackend & { config: unknown };
  assert.equal(backend.config, { root: '/data', mode: 'safe' });
  assert.equal(events, [{ event: 'create', plugin: 'fixturefs', config: { root: '/data', mode: 'safe' }, configPath: 'storage.profiles.data.fixturefs' }]);
  const selected = resolver.check({ profile: 'data', presign: { enabled: true } }, 'spec.storageConfig');
  assert.equal([selected.profile, selected.presign], ['data', { enabled: true }]);
  await backend.put(
    'a',
    (async function* () {
      yield new Uint8Array([1, 2, 3]);
    })(),
  );
  assert.is((await backend.stat('a')).size, 3);
  await resolver.close();
});

test('one instance per distinct merged config; equal tenant values share the profile instance; concurrent resolves share it', async () => {
  const profiles = { storage: { profiles: { data: { fixturefs: { root: '/data' }, tenantSettable: { mode: ['fast', 'safe'] } } } } };
  const resolver = createStorageResolver(await fixtureRegistry(), context(profiles));
  events.length = 0;
  const [a, b] = await Promise.all([resolver.resolve({ fixturefs: { root: '/data', mode: 'fast' } }), resolver.resolve({ fixturefs: { mode: 'fast', root: '/data' } })]);
  const c = await resolver.resolve({ fixturefs: { root: '/data', mode: 'safe' } });
  const d = await resolver.resolve(undefined);
  assert.is(a, b);
  assert.is.not(a, c);
  assert.is(c, d, 'a config equal after defaults is the same config');
  assert.is(events.filter((e) => e.event === 'create').length, 2);
  await resolver.close();
  assert.equal(
    events.filter((e) => e.event === 'close').map((e) => e.root),
    ['/data', '/data'],
  );
  const closed = await rejection(resolver.resolve({ profile: 'data' }));
  assert.match(closed.message, /closed/);
});

test('a profile naming no installed plugin, or with a config the plugin refuses, stops start-up naming it', async () => {
  const registry = await fixtureRegistry();
  const s3 = (() => {
    try {
      createStorageResolver(registry, context({ storage: { profiles: { aws: { s3: { bucket: 'b', region: 'r' } } } } }));
    } catch (err) {
      return err as Error & { hint?: string };
    }
    assert.unreachable('a profile over a missing plugin was accepted');
    throw new Error('unreachable');
  })();
  assert.match(s3.message, /^storage\.profiles\.aws\.s3: no storage plugin named "s3" is installed \(installed storage plugins: fixturefs\)/);
  assert.match(s3.hint ?? '', /Add @opendepot\/plugin-s3 to plugins:/);
  assert.is(toCondition(s3).reason, 'InvalidSpec');
  assert.throws(
    () => createStorageResolver(registry, context({ storage: { profiles: { data: { fixturefs: { root: 'relative', extra: true } } } } })),
    /storage\.profiles\.data\.fixturefs\.root: must match the pattern \^\/, not "relative"/,
  );
  assert.throws(
    () => createStorageResolver(registry, context({ defaultStorageConfig: { fixturefs: {} } })),
    /defaultStorageConfig\.fixturefs\.root: is required/,
    'the shorthand is checked at start-up too',
  );
  assert.throws(() => createStorageResolver(registry, context({ defaultStorageConfig: { gcs: { bucket: 'b' } } })), /defaultStorageConfig\.gcs: no storage plugin named "gcs"/);
  assert.throws(
    () => createStorageResolver(registry, context({ storage: { profiles: { data: { fixturefs: { root: '/data' }, tenantSettable: { colour: ['*'] } } } } })),
    /storage\.profiles\.data\.tenantSettable\.colour: the fixturefs storage plugin has no field colour/,
  );
});

test('a field that says where credentials go can never be tenant-settable: refused at start-up', async () => {
  const { plugin } = recordingPlugin();
  for (const field of ['endpoint', 'accountUrl', 'credentialsSecretRef', 'forcePathStyle', 'root', 'allowedEndpointHosts', 'tokenUrl', 'metadataEndpoint', 'keySecretRef']) {
    const storage = { profiles: { p: { objects: platform, tenantSettable: { [field]: ['*'] } } } };
    assert.throws(
      () => createStorageResolver(pluginRegistryOf(plugin), context({ storage })),
      new RegExp(`storage\\.profiles\\.p\\.tenantSettable\\.${field}: ${field} says where credentials are sent`),
      field,
    );
    const problems = storageSettingsProblems({ storage });
    assert.equal(
      problems.map((p) => p.path),
      [`storage.profiles.p.tenantSettable.${field}`],
      `the configuration check names ${field} too`,
    );
  }
});

test('no storageConfig: the default profile; without profiles a clear error naming the Helm value', async () => {
  const registry = await fixtureRegistry();
  const without = createStorageResolver(registry, context());
  const err = await rejection(without.resolve(undefined, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'input'));
  assert.match(err.message, /^spec\.storageConfig: no storage is configured/);
  assert.match(err.hint ?? '', /storage\.profiles \(or the defaultStorageConfig shorthand\) in the Helm values/);

  const shorthand = createStorageResolver(registry, context({ defaultStorageConfig: { fixturefs: { root: '/default' } } }));
  const backend = (await shorthand.resolve(undefined, 'spec.storageConfig')) as StorageBackend & { config: { root: string } };
  assert.is(backend.config.root, '/default');
  assert.equal([shorthand.check(undefined).where, shorthand.check(undefined).profile], ['defaultStorageConfig', 'default']);
  assert.is(shorthand.check({ profile: 'default' }).profile, 'default');
  await shorthand.close();

  const two = createStorageResolver(registry, context({ storage: { profiles: { a: { fixturefs: { root: '/a' } }, b: { fixturefs: { root: '/b' } } } } }));
  const none = await rejection(two.resolve(undefined, 'spec.storageConfig'));
  assert.is(none.field, 'spec.storageConfig.profile');
  assert.match(none.message, /^spec\.storageConfig names no storage profile and no default storage profile is configured/);
  assert.match(none.hint ?? '', /profiles: a \(fixturefs\), b \(fixturefs\)/);
  const several = await rejection(two.resolve({ fixturefs: { root: '/a' } }, 'spec.storageConfig'));
  assert.is(several.field, 'spec.storageConfig.profile');
  assert.match(several.message, /several storage profiles use \(a, b\)/);
  assert.is(two.check({ fixturefs: { root: '/b' }, profile: 'b' }).profile, 'b');
  const withDefault = createStorageResolver(registry, context({ storage: { defaultProfile: 'b', profiles: { a: { fixturefs: { root: '/a' } }, b: { fixturefs: { root: '/b' } } } } }));
  assert.is(withDefault.check(undefined).profile, 'b');
  assert.is(withDefault.check({ fixturefs: { root: '/b' } }).profile, 'b', 'the default profile, when the resource names its backend');
  assert.is(withDefault.check({ profile: 'a' }).config.root, '/a');
});

test('profile choice: unknown names and other backends are refused naming the field', async () => {
  const mem = recordingPlugin();
  const registry = pluginRegistryOf(mem.plugin, recordingPlugin('other').plugin);
  const resolver = createStorageResolver(
    registry,
    context({ readSecret, storage: { profiles: { aws: { objects: platform }, elsewhere: { other: { bucket: 'x', region: 'y' } } }, defaultProfile: 'aws' } }),
  );
  const unknown = await rejection(resolver.resolve({ profile: 'nope' }, 'spec.storageConfig'));
  assert.is(unknown.field, 'spec.storageConfig.profile');
  assert.match(unknown.message, /there is no storage profile named "nope" \(profiles: aws \(objects\), elsewhere \(other\)\)/);
  const mismatch = await rejection(resolver.resolve({ profile: 'aws', other: { bucket: 'x' } }, 'spec.storageConfig'));
  assert.is(mismatch.field, 'spec.storageConfig.other');
  assert.match(mismatch.message, /the storage profile aws stores in objects, not other/);
  assert.is(resolver.check({ other: { bucket: 'x' } }).profile, 'elsewhere', 'the only profile of that backend');
  const two = await rejection(resolver.resolve({ objects: { bucket: 'a' }, other: { bucket: 'b' } }));
  assert.match(two.message, /^storageConfig names 2 storage backends \(objects, other\), but at most one is allowed/);
  const foreign = await rejection(resolver.resolve({ gcs: { bucket: 'b' } }, 'spec.storageConfig'));
  assert.is(foreign.field, 'spec.storageConfig.profile');
  assert.match(foreign.message, /spec\.storageConfig\.gcs: no storage profile uses the gcs backend/);
  assert.equal(mem.created, [], 'nothing was created');
});

test('tenant fields: equal to the profile or allowed by its globs; anything else refused before any create or Secret read', async () => {
  const mem = recordingPlugin();
  const storage = {
    profiles: {
      aws: {
        objects: platform,
        tenantSettable: { bucket: ['team-*-modules', 'shared'], region: ['us-*'], prefix: ['teams/**'] },
        presign: { enabled: true, ttl: '5m' },
      },
    },
  };
  const resolver = createStorageResolver(pluginRegistryOf(mem.plugin), context({ readSecret, storage }));
  const where = 'spec.storageConfig';

  // The announcement's shape: bucket and region, both allowed.
  const allowed = resolver.check({ objects: { bucket: 'team-a-modules', region: 'us-east-1' } }, where);
  assert.equal(allowed.config, { ...platform, bucket: 'team-a-modules', region: 'us-east-1', tier: 'hot' });
  assert.equal(allowed.presign, { enabled: true, ttl: '5m' }, "the profile's presign when the resource sets none");
  // Field by field: the resource's fields over the profile's.
  assert.equal(resolver.check({ objects: { bucket: 'shared' }, presign: { enabled: false } }, where).presign, { enabled: false, ttl: '5m' });
  assert.equal(resolver.check({ objects: { bucket: 'shared' }, presign: { ttl: '3m' } }, where).presign, { enabled: true, ttl: '3m' });
  // Values equal to the profile's are fine, whatever the field (the announcement's Azure shape).
  resolver.check({ objects: { ...platform, tier: 'hot' } }, where);

  const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ endpoint: 'http://127.0.0.1:9/' }, 'endpoint', /is set by the platform's storage profile aws, not by resources/],
    [{ accountUrl: 'https://evil.example' }, 'accountUrl', /is set by the platform's storage profile aws/],
    [{ credentialsSecretRef: { name: 'another-secret' } }, 'credentialsSecretRef', /is set by the platform's storage profile aws/],
    [{ forcePathStyle: true }, 'forcePathStyle', /is set by the platform's storage profile aws/],
    [{ bucket: 'someone-else' }, 'bucket', /allows only values matching team-\*-modules, shared/],
    [{ bucket: 'team-a/../x-modules' }, 'bucket', /allows only values matching/],
    [{ prefix: 'teams/../../etc' }, 'prefix', /allows only values matching teams\/\*\*/],
    [{ region: 'eu-west-1' }, 'region', /allows only values matching us-\*/],
    [{ tier: 'cold' }, 'tier', /the storage profile aws does not let resources set tier/],
  ];
  for (const [fields, field, message] of refusals) {
    const err = await rejection(resolver.resolve({ objects: { bucket: 'shared', ...fields } }, where));
    assert.ok(isOpenDepotError(err, 'input'), String(err));
    assert.is(err.field, `spec.storageConfig.objects.${field}`, field);
    assert.ok(err.message.startsWith(`spec.storageConfig.objects.${field}`), err.message);
    assert.match(err.message, message);
    assert.is(toCondition(err).transient, false, 'a refusal stalls, it is not retried');
    assert.match(toCondition(err).message, `spec.storageConfig.objects.${field}`);
    if (['endpoint', 'accountUrl', 'credentialsSecretRef', 'forcePathStyle'].includes(field)) assert.match(err.hint ?? '', /come only from storage\.profiles in the Helm values/);
    else assert.match(err.hint ?? '', new RegExp(`Helm value storage\\.profiles\\.aws\\.tenantSettable\\.${field}`));
  }
  assert.equal(mem.created, [], 'no plugin instance was made for a refused config');
  assert.equal(mem.secretsRead, [], 'no Secret was read for a refused config');
  const prefixed = resolver.check({ objects: { prefix: 'teams/a/modules' } }, where);
  assert.is(prefixed.config.prefix, 'teams/a/modules');
  await resolver.resolve({ objects: { bucket: 'team-b-modules' } }, where);
  assert.equal(mem.secretsRead, ['platform-s3:platform-s3/key'], "only the platform's Secret, for an allowed config");
});

test('a transient create failure keeps its code, is not memoised, and maps to a transient condition', async () => {
  const resolver = createStorageResolver(await fixtureRegistry(), context({ storage: { profiles: { flaky: { fixturefs: { root: '/x', failCreate: true } } } } }));
  const err = await rejection(resolver.resolve({ profile: 'flaky' }, 'spec.storageConfig'));
  assert.ok(isOpenDepotError(err, 'unavailable'));
  assert.match(err.message, /^storage\.profiles\.flaky\.fixturefs: the fixturefs storage plugin could not start: backend unreachable/);
  assert.equal(toCondition(err), { reason: 'RateLimited', message: err.message, transient: true, retryAfterMs: 2500 });
  const again = await rejection(resolver.resolve({ profile: 'flaky' }));
  assert.is.not(again, err, 'the failed attempt was not cached');
});

test('an instance without the storage methods is refused', async () => {
  const plugin = definePlugin({ kind: 'storage', name: 'broken', apiVersion: PLUGIN_API_VERSION, configSchema: { type: 'object' }, create: () => ({ capabilities: { presign: true } }) as never });
  const resolver = createStorageResolver(pluginRegistryOf(plugin), context({ storage: { profiles: { b: { broken: {} } } } }));
  const err = await rejection(resolver.resolve({ broken: {} }));
  assert.match(err.message, /storageConfig\.broken: the broken storage plugin is broken: create\(\) returned a storage instance without put\(\), get\(\), stat\(\), delete\(\)/);
});

test('configuration problems: shorthand and profiles together, several backends, unknown default', () => {
  const problems = storageSettingsProblems({
    defaultStorageConfig: { filesystem: { path: '/data' } },
    storage: { defaultProfile: 'missing', profiles: { two: { s3: {}, gcs: {} }, none: { presign: { enabled: true } }, Bad_Name: { filesystem: { path: '/x' } } } },
  });
  assert.equal(
    problems.map((p) => p.path),
    ['defaultStorageConfig', 'storage.profiles.two', 'storage.profiles.none', 'storage.profiles.Bad_Name', 'storage.defaultProfile'],
  );
  assert.equal(storageSettingsProblems({ defaultStorageConfig: { filesystem: { path: '/data' } }, storage: { defaultProfile: 'default' } }), []);
  assert.equal(
    storageSettingsProblems({ defaultStorageConfig: { profile: 'aws' } }).map((p) => p.path),
    ['defaultStorageConfig.profile', 'defaultStorageConfig'],
  );
});

test.run();
