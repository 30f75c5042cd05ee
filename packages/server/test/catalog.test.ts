/** The indexes over the informer caches, and how a Version's state is read. */
import type { Module, Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModuleCatalog, versionState } from '../src/index.ts';
import { condition, moduleKey, moduleResource, versionResource } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';

// Without a storage key: the fixture records the derived one.
const stored = (n: number) => ({ checksum: n.toString(16).padStart(64, '0'), size: n });

const owner = moduleResource({ name: 'a' });

function catalogOf(modules: Module[] = [], versions: Version[] = []) {
  const m = new MemoryInformer<Module>(modules);
  const v = new MemoryInformer<Version>(versions);
  const warnings: string[] = [];
  const catalog = new ModuleCatalog({ modules: m, versions: v }, { warn: (message) => warnings.push(message) });
  return { catalog, modules: m, versions: v, warnings };
}

test('of two Modules claiming one address the older is served, whatever the event order', () => {
  const older = moduleResource({ name: 'eks-a', moduleName: 'eks', created: '2026-01-01T00:00:00Z' });
  const newer = moduleResource({ name: 'eks-b', moduleName: 'eks', created: '2026-02-01T00:00:00Z' });
  for (const order of [
    [older, newer],
    [newer, older],
  ]) {
    const { catalog, warnings } = catalogOf(order);
    assert.is(catalog.find('opendepot-system', 'eks', 'aws')?.module.metadata.name, 'eks-a');
    assert.equal(warnings, ['several Modules claim one registry address; the oldest is served']);
  }
});

test('changing moduleConfig.name moves the module to its new address', () => {
  const mod = moduleResource({ name: 'net', moduleName: 'network' });
  const { catalog, modules } = catalogOf([mod]);
  assert.ok(catalog.find('opendepot-system', 'network', 'aws'));
  modules.put(moduleResource({ name: 'net', moduleName: 'vpc' }));
  assert.is(catalog.find('opendepot-system', 'network', 'aws'), undefined);
  assert.ok(catalog.find('opendepot-system', 'vpc', 'aws'));
  assert.equal(catalog.size(), { modules: 1, versions: 0 });
});

test('the same namespace/name/system in another namespace is another module', () => {
  const a = moduleResource({ name: 'eks', namespace: 'team-a' });
  const b = moduleResource({ name: 'eks', namespace: 'team-b' });
  const { catalog, versions } = catalogOf([a, b]);
  versions.put(versionResource({ owner: a, version: '1.0.0', stored: stored(1) }));
  assert.equal(
    catalog.find('team-a', 'eks', 'aws')?.ready.map((e) => e.version),
    ['1.0.0'],
  );
  assert.equal(
    catalog.find('team-b', 'eks', 'aws')?.ready.map((e) => e.version),
    [],
  );
});

test('a view is reused until something of its module changes; other modules keep theirs', () => {
  const a = moduleResource({ name: 'a' });
  const b = moduleResource({ name: 'b' });
  const { catalog, versions } = catalogOf([a, b], [versionResource({ owner: a, version: '1.0.0', stored: stored(1) })]);
  const viewA = catalog.find('opendepot-system', 'a', 'aws');
  const viewB = catalog.find('opendepot-system', 'b', 'aws');
  assert.is(catalog.find('opendepot-system', 'a', 'aws'), viewA);
  versions.put(versionResource({ owner: a, version: '1.1.0', stored: stored(2) }));
  const newA = catalog.find('opendepot-system', 'a', 'aws');
  assert.is.not(newA, viewA);
  assert.equal(
    newA?.ready.map((e) => e.version),
    ['1.0.0', '1.1.0'],
  );
  assert.is(catalog.find('opendepot-system', 'b', 'aws'), viewB);
});

test('versions sort by semver, pre-releases before their release; unparseable versions are skipped with a warning', () => {
  const a = moduleResource({ name: 'a' });
  const { catalog, warnings } = catalogOf(
    [a],
    ['1.10.0', '1.2.0', '1.2.0-beta.1', '0.9.0', 'latest'].map((version, i) => versionResource({ owner: a, version, stored: stored(i + 1) })),
  );
  const view = catalog.find('opendepot-system', 'a', 'aws')!;
  assert.equal(
    view.ready.map((e) => e.version),
    ['0.9.0', '1.2.0-beta.1', '1.2.0', '1.10.0'],
  );
  assert.is(JSON.parse(view.versionsAnswer.text()).modules[0].versions.length, 4);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, '"latest" is not a version');
});

test('provider Versions are not module versions', () => {
  const a = moduleResource({ name: 'a' });
  const providerVersion = versionResource({ owner: a, version: '1.0.0', stored: stored(1) });
  providerVersion.spec = { ...providerVersion.spec, kind: 'Provider' };
  const { catalog } = catalogOf([a], [providerVersion]);
  assert.equal(catalog.find('opendepot-system', 'a', 'aws')?.ready, []);
  assert.equal(catalog.size(), { modules: 1, versions: 0 });
});

test('dispose stops following the informers', () => {
  const a = moduleResource({ name: 'a' });
  const { catalog, modules } = catalogOf([]);
  catalog.dispose();
  modules.put(a);
  // Already synced and seeded, so only events could have added it.
  assert.is(catalog.find('opendepot-system', 'a', 'aws'), undefined);
});

test('versionState: Ready with checksum, size and key is servable', () => {
  const state = versionState(versionResource({ owner, version: '1.0.0', stored: stored(7), fileFormat: 'tar.gz' }));
  assert.equal(state, {
    kind: 'ready',
    checksum: stored(7).checksum,
    size: 7,
    storageKey: 'modules/opendepot-system/a/aws/1.0.0/a-aws-1.0.0.tar.gz',
    storageConfig: { filesystem: { path: '/data' } },
    fileFormat: 'tar.gz',
  });
});

test("versionState: a status naming a key its spec does not derive (another namespace's archive) is refused, never served", () => {
  const theirs = moduleResource({ name: 'a', namespace: 'team-a' });
  const foreign = { ...stored(7), storageKey: moduleKey(theirs, '1.0.0') };
  const state = versionState(versionResource({ owner, version: '1.0.0', stored: foreign }));
  assert.equal(state, {
    kind: 'stalled',
    detail: 'its status names a storage key other than the one its spec derives',
    reason: 'StorageKeyMismatch',
    foreignStorageKey: 'modules/team-a/a/aws/1.0.0/a-aws-1.0.0.zip',
  });
});

test('the catalog does not list a Version whose status names a foreign key, and logs it once', () => {
  const ghost = versionResource({ owner, version: '1.0.0', stored: { ...stored(7), storageKey: 'modules/team-a/a/aws/1.0.0/a-aws-1.0.0.zip' } });
  const { catalog, versions, warnings } = catalogOf([owner], [ghost]);
  const view = catalog.find('opendepot-system', 'a', 'aws')!;
  assert.equal(view.ready, []);
  assert.is(view.versions.get('1.0.0')?.state.kind, 'stalled');
  versions.put({ ...ghost, metadata: { ...ghost.metadata, resourceVersion: '2' } });
  catalog.find('opendepot-system', 'a', 'aws');
  assert.equal(warnings, ['Version is not served: its status names a storage key that its spec and namespace do not derive']);
  versions.put(versionResource({ owner, version: '1.0.0', stored: stored(7) }));
  assert.equal(
    catalog.find('opendepot-system', 'a', 'aws')!.ready.map((e) => e.version),
    ['1.0.0'],
    'the derived key is served',
  );
});

test('versionState: never servable without a checksum, while stalled, blocked or being removed', () => {
  const noChecksum = versionResource({ owner, version: '1.0.0', conditions: [condition('Ready', 'True', 'ArchiveStored')] });
  assert.equal(versionState(noChecksum), { kind: 'syncing', detail: 'it is still being synced', reason: 'ChecksumNotRecorded' });

  const stalled = versionResource({ owner, version: '1.0.0', conditions: [condition('Ready', 'False', 'Failed'), condition('Stalled', 'True', 'SourceChanged', 'upstream archive changed')] });
  assert.equal(versionState(stalled), { kind: 'stalled', detail: 'it is stalled', reason: 'SourceChanged', message: 'SourceChanged: upstream archive changed' });
  const refused = versionResource({
    owner,
    version: '1.0.0',
    conditions: [condition('Ready', 'False', 'VerificationFailed'), condition('Stalled', 'True', 'VerificationFailed', 'not signed by a trusted key')],
  });
  assert.equal(versionState(refused), {
    kind: 'stalled',
    detail: 'it was refused because the upstream archive failed its checksum or signature check, so it is neither listed nor served',
    reason: 'VerificationFailed',
    message: 'VerificationFailed: not signed by a trusted key',
  });

  const blocked = versionResource({ owner, version: '1.0.0', stored: stored(1) });
  blocked.status!.scan = { scanner: 'trivy', blocked: true };
  assert.equal(versionState(blocked).kind, 'blocked');

  const removing = versionResource({ owner, version: '1.0.0', stored: stored(1) });
  removing.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(versionState(removing).kind, 'removing');

  const fresh = versionResource({ owner, version: '1.0.0', conditions: [] });
  assert.equal(versionState(fresh), { kind: 'syncing', detail: 'it is still being synced', reason: 'Progressing' });
});

test.run();
