/** What the server's informers keep of each object: less memory, the same answers. */
import type { Module, Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepServedFields, keepServedFieldsWith, SharedValues } from '../src/catalog/cached-objects.ts';
import { ModuleCatalog, versionState } from '../src/index.ts';
import { ProviderCatalog } from '../src/catalog/provider-catalog.ts';
import { moduleResource, NS, versionResource } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';
import { providerKey, providerVersionResource } from './support/providers.ts';

const owner = moduleResource({ name: 'eks' });

/** `obj` as the API server hands it out: everything the server does not read filled in. */
function asListed<T extends Module | Version>(obj: T): T {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { team: 'a' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(obj) },
      finalizers: ['opendepot.defdev.io/archive'],
      ownerReferences: [{ apiVersion: 'opendepot.defdev.io/v1alpha1', kind: 'Module', name: 'eks', uid: 'u' }],
      managedFields: [{ manager: 'opendepot-operator', operation: 'Apply', fieldsV1: { 'f:status': {} } }],
    },
    ...(obj.status && { status: { ...obj.status, syncStatus: 'stored' } }),
  } as T;
}

test('keepServedFields drops managedFields, annotations, labels, owners, finalizers and syncStatus, and keeps what identifies the object', () => {
  const full = asListed(versionResource({ owner, version: '1.0.0', stored: { checksum: 'a'.repeat(64), size: 1 } }));
  const kept = keepServedFields(full);
  // Versions are never ordered by creation time; Modules are (the oldest claimant of an address wins).
  assert.equal(Object.keys(kept.metadata).sort(), ['generation', 'name', 'namespace', 'resourceVersion']);
  assert.equal(Object.keys(keepServedFields(asListed(owner)).metadata).sort(), ['creationTimestamp', 'generation', 'name', 'namespace', 'resourceVersion']);
  assert.not.ok('syncStatus' in kept.status!);
  assert.equal(kept.spec, full.spec);
  assert.equal(kept.status!.conditions, full.status!.conditions);
  assert.ok((full.metadata as { managedFields?: unknown }).managedFields, 'the informer object itself is not changed');
});

test("Versions of one owner share their owner's settings as one frozen object; the cache's values stay equal", () => {
  const keep = keepServedFieldsWith(new SharedValues());
  const [a, b] = ['1.0.0', '1.1.0'].map((v) => asListed(versionResource({ owner, version: v, stored: { checksum: 'a'.repeat(64), size: 1 } })));
  const keptA = keep(a!);
  const keptB = keep(b!);
  assert.ok(keptA.spec.storageConfig === keptB.spec.storageConfig, 'one storageConfig object');
  assert.ok(keptA.spec.module === keptB.spec.module, 'one module address object');
  assert.equal(keptA.spec, a!.spec);
  assert.equal(keptB.status!.conditions, b!.status!.conditions);
  assert.ok(Object.isFrozen(keptA.spec.storageConfig) && Object.isFrozen(keptA.spec.storageConfig.filesystem), 'shared objects are frozen, deep');
  assert.throws(() => {
    (keptA.spec.storageConfig.filesystem as { path: string }).path = '/elsewhere';
  }, /read only|read-only|Cannot assign/);
  assert.equal(keptB.spec.storageConfig.filesystem?.path, a!.spec.storageConfig.filesystem?.path, 'a slip changes no other Version');
  // A Version with other settings gets its own object.
  const other = keep(asListed(versionResource({ owner, version: '2.0.0', storageConfig: { filesystem: { path: '/other' } } })));
  assert.ok(other.spec.storageConfig !== keptA.spec.storageConfig);
  assert.equal(other.spec.storageConfig, { filesystem: { path: '/other' } });
});

test('the shared tables are bounded and start again when full, values unchanged', () => {
  const shared = new SharedValues();
  const first = shared.object({ filesystem: { path: '/p0' } });
  for (let i = 1; i <= SharedValues.MAX_ENTRIES; i++) assert.equal(shared.object({ filesystem: { path: `/p${i}` } }), { filesystem: { path: `/p${i}` } });
  // The table was full and started again: an equal value is a new object, still equal.
  const again = shared.object({ filesystem: { path: '/p0' } });
  assert.ok(again !== first);
  assert.equal(again, first);
  for (let i = 0; i <= SharedValues.MAX_ENTRIES; i++) assert.is(shared.string(`s${i}`), `s${i}`);
  const long = 'x'.repeat(SharedValues.MAX_STRING_LENGTH + 1);
  assert.is(shared.string(long), long);
  assert.is(shared.string(undefined), undefined);
});

test('every state the server reads is the same from the kept fields: ready, fetching, being deleted', () => {
  const versions = [
    versionResource({ owner, version: '1.0.0', stored: { checksum: 'a'.repeat(64), size: 1 } }),
    versionResource({ owner, version: '1.1.0' }),
    {
      ...versionResource({ owner, version: '1.2.0', stored: { checksum: 'b'.repeat(64), size: 2 } }),
      metadata: { ...versionResource({ owner, version: '1.2.0' }).metadata, deletionTimestamp: '2026-01-02T00:00:00Z' },
    },
  ];
  for (const version of versions.map(asListed)) assert.equal(versionState(keepServedFields(version)), versionState(version), version.metadata.name);
});

test('the module and provider answers built from kept objects equal those built from full ones', () => {
  const moduleVersions = ['1.0.0', '1.1.0', '2.0.0'].map((v, i) => asListed(versionResource({ owner, version: v, stored: { checksum: String(i).repeat(64), size: i } })));
  const providerVersions = ['5.0.0', '5.1.0'].map((v) =>
    asListed(
      providerVersionResource({
        type: 'aws',
        version: v,
        os: 'linux',
        arch: 'amd64',
        stored: {
          checksum: 'c'.repeat(64),
          size: 5,
          storageKey: providerKey(NS, { type: 'aws', version: v, os: 'linux', arch: 'amd64' }),
          zh: `zh:${'c'.repeat(64)}`,
          filename: `terraform-provider-aws_${v}_linux_amd64.zip`,
          protocols: ['5.0'],
        },
      }),
    ),
  );
  const answers = (transform: <T extends Module | Version>(obj: T) => T) => {
    const versions = new MemoryInformer<Version>([...moduleVersions, ...providerVersions].map(transform));
    const modules = new MemoryInformer<Module>([transform(asListed(owner))]);
    const view = new ModuleCatalog({ modules, versions }).find(NS, 'eks', 'aws');
    const provider = new ProviderCatalog(versions).find(NS, 'aws');
    return {
      module: view?.versionsAnswer.text(),
      provider: provider?.versionsAnswer.text(),
      mirror: [...(new ProviderCatalog(versions).findMirrored('registry.opentofu.org', 'hashicorp', 'aws')?.releases.keys() ?? [])],
    };
  };
  const full = answers((obj) => obj);
  assert.equal(answers(keepServedFields), full);
  assert.match(full.module ?? '', /2\.0\.0/);
  assert.match(full.provider ?? '', /5\.1\.0/);
  assert.equal(full.mirror, ['5.0.0', '5.1.0']);
});

test.run();
