/** What the server's informers keep of each object: less memory, the same answers. */
import type { Module, Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepServedFields } from '../src/catalog/cached-objects.ts';
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
  assert.equal(Object.keys(kept.metadata).sort(), ['creationTimestamp', 'generation', 'name', 'namespace', 'resourceVersion', 'uid']);
  assert.not.ok('syncStatus' in kept.status!);
  assert.equal(kept.spec, full.spec);
  assert.equal(kept.status!.conditions, full.status!.conditions);
  assert.ok((full.metadata as { managedFields?: unknown }).managedFields, 'the informer object itself is not changed');
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
