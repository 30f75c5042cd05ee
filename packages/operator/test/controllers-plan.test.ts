/** The planning rules of the Module and Provider controllers, without a cluster. */
import type { Module, Provider, Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planModule } from '../src/controllers/module-plan.ts';
import { integrityProblems } from '../src/controllers/owner-controller.ts';
import { versionObjectName } from '../src/controllers/naming.ts';
import { planProvider, platformStatus } from '../src/controllers/provider-plan.ts';
import { latestReady, replacingPatch, storageMoved, versionObject } from '../src/controllers/version-plan.ts';

const storage = { filesystem: { path: '/data' } };

function module(versions: string[], extra: Partial<Module['spec']['moduleConfig']> = {}): Module {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'eks', namespace: 'ns', uid: 'u1' },
    spec: { moduleConfig: { name: 'eks', provider: 'aws', repoOwner: 'acme', ...extra }, versions: versions.map((version) => ({ version })) },
  };
}

/** The Versions a plan would create, as if they existed (Ready or not). */
function existing(owner: Module | Provider, plan: ReturnType<typeof planModule>, ready: boolean): Version[] {
  const kind = owner.kind;
  return plan.create.map((w) => ({
    ...versionObject({ kind, name: owner.metadata.name!, namespace: 'ns', uid: 'u1' }, w),
    status: ready ? { checksum: 'a'.repeat(64), conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } : {},
  }));
}

test('one Version per listed version, v-prefixes and duplicates folded, owned and labelled', () => {
  const plan = planModule(module(['1.0.0', 'v1.1.0', '1.1.0']), [], storage);
  assert.equal(plan.wanted, ['1.1.0', '1.0.0']);
  assert.equal(
    plan.create.map((c) => c.name),
    ['eks-1.1.0', 'eks-1.0.0'],
  );
  const v = versionObject({ kind: 'Module', name: 'eks', namespace: 'ns', uid: 'u1' }, plan.create[0]!);
  assert.is(v.metadata.ownerReferences?.[0]?.uid, 'u1');
  assert.is(v.metadata.labels?.['opendepot.defdev.io/owner-name'], 'eks');
  assert.equal(v.spec.storageConfig, storage);
  assert.is(v.spec.fileFormat, 'zip');
});

test('the Module storageConfig wins over the default; no storage at all is a clear error', () => {
  const m = module(['1.0.0']);
  m.spec.storageConfig = { gcs: { bucket: 'b' } } as never;
  assert.equal(planModule(m, [], storage).create[0]!.spec.storageConfig, { gcs: { bucket: 'b' } });
  assert.throws(() => planModule(module(['1.0.0']), [], undefined), /no storageConfig: set spec.storageConfig/);
});

test('versionHistoryLimit keeps the newest N and removes the rest, even when immutable', () => {
  const all = module(['1.0.0', '1.1.0', '1.2.0']);
  const owned = existing(all, planModule(all, [], storage), true);
  const limited = module(['1.0.0', '1.1.0', '1.2.0'], { versionHistoryLimit: 2, immutable: true });
  const plan = planModule(limited, owned, storage);
  assert.equal(plan.wanted, ['1.2.0', '1.1.0']);
  assert.equal(plan.remove, ['eks-1.0.0']);
  assert.equal(plan.create, []);
});

test('an unlisted version is removed, but kept while the Module is immutable and it is Ready', () => {
  const all = module(['1.0.0', '1.1.0']);
  const ready = existing(all, planModule(all, [], storage), true);
  assert.equal(planModule(module(['1.1.0']), ready, storage).remove, ['eks-1.0.0']);
  const immutable = planModule(module(['1.1.0'], { immutable: true }), ready, storage);
  assert.equal(immutable.remove, []);
  assert.match(immutable.kept[0]!.reason, /Ready and the Module is immutable/);
  const notReady = existing(all, planModule(all, [], storage), false);
  assert.equal(planModule(module(['1.1.0'], { immutable: true }), notReady, storage).remove, ['eks-1.0.0']);
});

test('a changed storageConfig updates Versions, immutable Ready ones too: only the bytes are immutable', () => {
  const all = module(['1.0.0'], { immutable: true });
  const owned = existing(all, planModule(all, [], storage), true);
  const moved = module(['1.0.0'], { immutable: true });
  moved.spec.storageConfig = { filesystem: { path: '/elsewhere' } };
  assert.equal(
    planModule(moved, owned, storage).update.map((u) => [u.name, u.spec.storageConfig]),
    [['eks-1.0.0', { filesystem: { path: '/elsewhere' } }]],
  );
  const presigned = module(['1.0.0'], { immutable: true });
  presigned.spec.storageConfig = { ...storage, presign: { enabled: true } };
  assert.equal(planModule(presigned, owned, storage).update[0]!.spec.storageConfig, { ...storage, presign: { enabled: true } });
  assert.ok(storageMoved(owned[0]!.spec, planModule(moved, owned, storage).update[0]!.spec));
  assert.not.ok(storageMoved(owned[0]!.spec, planModule(presigned, owned, storage).update[0]!.spec));
  // The fields that decide the bytes stay as stored; with nothing else changed, nothing to update.
  const retargeted = module(['1.0.0'], { immutable: true, repoOwner: 'other', fileFormat: 'tar.gz' });
  assert.equal(planModule(retargeted, owned, storage).update, []);
  retargeted.spec.storageConfig = { filesystem: { path: '/elsewhere' } };
  const [update] = planModule(retargeted, owned, storage).update;
  assert.equal([update!.spec.module?.repoOwner, update!.spec.fileFormat, update!.spec.immutable], ['acme', 'zip', true]);
  // Not Ready yet: everything follows.
  const pending = existing(all, planModule(all, [], storage), false);
  assert.is(planModule(retargeted, pending, storage).update[0]!.spec.module?.repoOwner, 'other');
});

test('the update patch replaces: fields the wanted spec drops become null (a backend switch, a presign field removed)', () => {
  assert.equal(replacingPatch({ filesystem: { path: '/x' }, presign: { enabled: true, ttl: '3m' } }, { s3: { bucket: 'b' }, presign: { enabled: true } }), {
    filesystem: null,
    presign: { enabled: true, ttl: null },
    s3: { bucket: 'b' },
  });
  assert.equal(replacingPatch({ presign: { ttl: '3m' } }, { filesystem: { path: '/x' } }), { presign: null, filesystem: { path: '/x' } });
});

test('Version names are valid object names, and versions that differ only in case or + never collide', () => {
  const a = versionObjectName('eks', '1.0.0-RC1+build.5');
  const b = versionObjectName('eks', '1.0.0-rc1+build.5');
  assert.match(a, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  assert.is.not(a, b);
  assert.is(versionObjectName('aws', '5.80.0', { os: 'linux', arch: 'amd64' }), 'aws-5.80.0-linux-amd64');
});

const provider = (versions: string[]): Provider => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Provider',
  metadata: { name: 'aws', namespace: 'ns', uid: 'u1' },
  spec: { providerConfig: { name: 'aws', operatingSystems: ['linux', 'darwin'], architectures: ['amd64', 'arm64'] }, versions: versions.map((version) => ({ version })) },
});

test('a Provider gets one Version per version × OS × architecture, with hashicorp defaults', () => {
  const plan = planProvider(provider(['5.80.0', '5.81.0']), [], storage);
  assert.is(plan.create.length, 8);
  assert.ok(plan.wanted.includes('5.81.0/darwin_arm64'));
  const spec = plan.create[0]!.spec;
  assert.equal(spec.provider, { name: 'aws', namespace: 'hashicorp', source: 'hashicorp-releases' });
  assert.is(spec.fileFormat, 'zip');
  assert.ok(spec.operatingSystem && spec.architecture);
});

test("a Provider's spec.scanning is copied to its Versions, and changing it updates them (even Ready immutable ones)", () => {
  const scanning = { blockSeverities: ['HIGH' as const], ignore: [{ id: 'CVE-2022-32149', expires: '2027-01-01T00:00:00Z', reason: 'not reachable' }] };
  const p = { ...provider(['5.80.0']), spec: { ...provider(['5.80.0']).spec, scanning } };
  const plan = planProvider(p, [], storage);
  assert.ok(plan.create.every((w) => JSON.stringify(w.spec.scanning) === JSON.stringify(scanning)));
  const owned = existing(p, plan, true).map((v) => ({ ...v, spec: { ...v.spec, immutable: true } }));
  const p2 = { ...p, spec: { ...p.spec, providerConfig: { ...p.spec.providerConfig, immutable: true }, scanning: { blockSeverities: [] } } };
  const again = planProvider(p2, owned, storage);
  assert.is(again.update.length, 4);
  assert.ok(again.update.every((w) => w.spec.scanning?.ignore === undefined && w.spec.scanning?.blockSeverities?.length === 0));
});

test('per-platform progress and the latest version Ready on every platform', () => {
  const p = provider(['5.80.0', '5.81.0']);
  const plan = planProvider(p, [], storage);
  const owned = existing(p, plan, true);
  // 5.81.0 is missing on darwin_arm64: the latest complete version is 5.80.0.
  const broken = owned.find((v) => v.spec.version === '5.81.0' && v.spec.operatingSystem === 'darwin' && v.spec.architecture === 'arm64')!;
  broken.status = { conditions: [{ type: 'Ready', status: 'False', reason: 'VerificationFailed', message: 'bad signature', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  assert.is(latestReady(owned), '5.80.0');
  const platforms = platformStatus(p, owned, plan.wanted);
  const darwinArm = platforms.find((x) => x.platform === 'darwin_arm64')!;
  assert.equal({ ...darwinArm }, { platform: 'darwin_arm64', versionsSynced: 1, versionsTotal: 2, ready: false, message: '5.81.0: bad signature' });
  assert.ok(platforms.find((x) => x.platform === 'linux_amd64')!.ready);
});

test("an owner rolls up its Versions' integrity problems: a changed upstream (still served) and a refused archive", () => {
  const all = module(['1.0.0', '1.1.0', '1.2.0'], { immutable: true });
  const [v120, v110, v100] = existing(all, planModule(all, [], storage), true);
  const at = '2026-01-01T00:00:00Z';
  v110!.status!.conditions!.push({ type: 'UpstreamChanged', status: 'True', reason: 'ImmutableViolation', message: 'moved', lastTransitionTime: at });
  v120!.status = {
    conditions: [
      { type: 'Ready', status: 'False', reason: 'VerificationFailed', message: 'not signed by a trusted key', lastTransitionTime: at },
      { type: 'Stalled', status: 'True', reason: 'VerificationFailed', message: 'not signed by a trusted key', lastTransitionTime: at },
    ],
  };
  assert.equal(integrityProblems([v100!, v110!, v120!]), [
    { version: '1.1.0', reason: 'ImmutableViolation', served: true, message: 'moved' },
    { version: '1.2.0', reason: 'VerificationFailed', served: false, message: 'not signed by a trusted key' },
  ]);
  assert.equal(integrityProblems([v100!]), []);
});

test.run();
