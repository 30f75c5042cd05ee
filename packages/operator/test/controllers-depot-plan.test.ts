/** The Depot's merge and selection rules, without a cluster. */
import type { Depot } from '@opendepot/core';
import { isOpenDepotError } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergedVersions, moduleFor, providerFor, selectVersions } from '../src/controllers/depot-plan.ts';

const depot: Depot = {
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Depot',
  metadata: { name: 'd', namespace: 'ns' },
  spec: {
    global: {
      githubClientConfig: { useAuthenticatedClient: true },
      moduleConfig: { fileFormat: 'zip', immutable: false, versionHistoryLimit: 5 },
      storageConfig: { s3: { bucket: 'opendepot-registry', region: 'us-west-2' } },
      providerConfig: { operatingSystems: ['linux'], architectures: ['amd64'] },
    },
  },
};

test('the announcement constraints select exactly the matching versions, newest first; junk tags are ignored', () => {
  const found = ['21.9.0', '21.10.1', '21.11.0', 'v21.12.0', '21.13.0', '21.14.0-rc.1', 'latest', '21.14.0'];
  assert.equal(selectVersions(found, '>= 21.10.1, != 21.13.0', 'x'), ['21.14.0', '21.12.0', '21.11.0', '21.10.1']);
  assert.equal(selectVersions(['4.9.0', '5.80.0', '5.99.1', '6.0.0'], '>= 5.80.0, < 6.0.0', 'x'), ['5.99.1', '5.80.0']);
});

test('a malformed constraint is an input error naming the entry', () => {
  try {
    selectVersions(['1.0.0'], '>= banana', 'moduleConfigs[eks].versionConstraints');
    assert.unreachable();
  } catch (err) {
    assert.ok(isOpenDepotError(err, 'input'));
    assert.match((err as Error).message, /^moduleConfigs\[eks\]\.versionConstraints: /);
  }
});

test('versions are only ever added: what the Module lists stays', () => {
  assert.equal(mergedVersions([{ version: '1.0.0' }, { version: 'v0.9.0' }], ['1.1.0', '1.0.0']), [{ version: '0.9.0' }, { version: '1.0.0' }, { version: '1.1.0' }]);
});

test('global defaults sit under the entry; the entry wins; no owner reference, a Depot label', () => {
  const m = moduleFor(depot, { name: 'terraform-aws-eks', provider: 'aws', repoOwner: 'terraform-aws-modules', versionConstraints: '>= 1.0.0', fileFormat: 'tar.gz' }, [{ version: '1.0.0' }]);
  assert.is(m.spec.moduleConfig.fileFormat, 'tar.gz');
  assert.is(m.spec.moduleConfig.immutable, false);
  assert.is(m.spec.moduleConfig.versionHistoryLimit, 5);
  assert.equal(m.spec.storageConfig, { s3: { bucket: 'opendepot-registry', region: 'us-west-2' } });
  assert.equal(m.spec.githubClientConfig, { useAuthenticatedClient: true });
  assert.is(m.metadata.ownerReferences, undefined);
  assert.is(m.metadata.labels?.['opendepot.defdev.io/depot'], 'd');
  const p = providerFor(depot, { name: 'aws', versionConstraints: '>= 5.80.0', storageConfig: { filesystem: { path: '/x' } } }, []);
  assert.equal(p.spec.providerConfig.operatingSystems, ['linux']);
  assert.is(p.spec.providerConfig.namespace, 'hashicorp');
  assert.is(p.spec.providerConfig.source, 'hashicorp-releases');
  assert.equal(p.spec.storageConfig, { filesystem: { path: '/x' } });
});

test('the global presign applies to an entry with its own backend, under the fields the entry sets itself', () => {
  const withPresign: Depot = { ...depot, spec: { global: { storageConfig: { s3: { bucket: 'b1', region: 'r' }, presign: { enabled: true, ttl: '15m' } } } } };
  const own = moduleFor(withPresign, { name: 'm', provider: 'aws', repoOwner: 'o', versionConstraints: '>= 1.0.0', storageConfig: { gcs: { bucket: 'b2' } } }, []);
  assert.equal(own.spec.storageConfig, { gcs: { bucket: 'b2' }, presign: { enabled: true, ttl: '15m' } });
  const off = moduleFor(withPresign, { name: 'm', provider: 'aws', repoOwner: 'o', versionConstraints: '>= 1.0.0', storageConfig: { gcs: { bucket: 'b2' }, presign: { enabled: false } } }, []);
  assert.equal(off.spec.storageConfig, { gcs: { bucket: 'b2' }, presign: { enabled: false, ttl: '15m' } });
  const shorter = moduleFor(withPresign, { name: 'm', provider: 'aws', repoOwner: 'o', versionConstraints: '>= 1.0.0', storageConfig: { gcs: { bucket: 'b2' }, presign: { ttl: '3m' } } }, []);
  assert.equal(shorter.spec.storageConfig, { gcs: { bucket: 'b2' }, presign: { enabled: true, ttl: '3m' } });
});

test("an entry's scanning goes to the Module's or Provider's spec.scanning, not into its moduleConfig or providerConfig", () => {
  const scanning = { blockSeverities: ['CRITICAL' as const], ignore: [{ id: 'CVE-1', expires: '2027-01-01T00:00:00Z', reason: 'r' }] };
  const m = moduleFor(depot, { name: 'm', provider: 'aws', repoOwner: 'o', versionConstraints: '>= 1.0.0', scanning }, []);
  assert.equal(m.spec.scanning, scanning);
  assert.not.ok('scanning' in m.spec.moduleConfig);
  const p = providerFor(depot, { name: 'aws', versionConstraints: '>= 5.80.0', scanning }, []);
  assert.equal(p.spec.scanning, scanning);
  assert.not.ok('scanning' in p.spec.providerConfig);
});

test.run();
