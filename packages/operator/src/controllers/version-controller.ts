/**
 * The Version controller (modules): fetch the archive through the module's source, store it
 * through the storage plugin with its SHA-256, and from then on re-verify the stored bytes on
 * every reconcile and on an interval, restoring them from the source when the source still
 * matches the recorded checksum and stopping (Stalled) when it does not.
 */
import { toCondition, type Informer, type ResourceClient, type StorageResolver, type Version } from '@opendepot/core';
import type { ArchiveSource, Logger, StorageBackend } from '@opendepot/sdk';
import { moduleArchiveSubject } from '../sources/index.ts';
import {
  EventRecorder,
  REASONS,
  StatusWriter,
  hasFinalizer,
  isBeingDeleted,
  markReady,
  markReconciling,
  markStalled,
  removeCondition,
  setCondition,
  type ReconcileResult,
} from '../runtime/index.ts';
import { fetchAndStore, verifyStored } from './archive-sync.ts';
import { VERSION_FINALIZER, moduleStorageKey } from './naming.ts';

/** What the Version controller needs. */
export interface VersionControllerDeps {
  versions: Informer<Version>;
  resource: ResourceClient<Version>;
  status: StatusWriter<Version>;
  events: EventRecorder;
  storage: Pick<StorageResolver, 'resolve'>;
  /** The archive source of a module Version. */
  moduleSource(version: Version): ArchiveSource;
  /** How often a Ready Version's stored archive is hashed again. */
  verifyIntervalMs: number;
  logger: Logger;
}

/** Condition set while the upstream archive differs from an immutable Version's recorded one. */
const UPSTREAM_CHANGED = 'UpstreamChanged';

/** Makes the reconcile function of the Version controller. */
export function versionReconciler(deps: VersionControllerDeps) {
  return async function reconcileVersion(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const [namespace, name] = splitKey(key);
    let version = deps.versions.get(namespace, name);
    if (!version) return;
    if (isBeingDeleted(version)) return finalize(deps, version, signal);
    if (!hasFinalizer(version, VERSION_FINALIZER)) version = await deps.resource.addFinalizer(version, VERSION_FINALIZER, { signal });
    if (version.spec.kind !== 'Module') return; // provider Versions have a controller of their own
    try {
      return await syncModuleVersion(deps, version, signal);
    } catch (err) {
      return reportFailure(deps, version, err);
    }
  };
}

async function syncModuleVersion(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<ReconcileResult> {
  const storage = await deps.storage.resolve(version.spec.storageConfig, 'spec.storageConfig');
  const { spec, status } = version;
  const module = spec.module!;
  const storageKey = moduleStorageKey(version.metadata.namespace!, module.name, module.provider, spec.version, spec.fileFormat);
  const recorded = status?.checksum;
  const requeue = { requeueAfterMs: deps.verifyIntervalMs };

  if (recorded && !spec.forceSync) {
    const found = await verifyStored(storage, status?.storageKey ?? storageKey, recorded, signal);
    if (found.state === 'ok') {
      await writeReady(deps, version, { checksum: recorded, size: found.size, storageKey: status?.storageKey ?? storageKey }, 'Verified', `stored archive matches sha256 ${recorded}`);
      return requeue;
    }
    const what = found.state === 'missing' ? 'is missing from storage' : `was changed in storage (sha256 now ${found.actualSha256})`;
    await deps.events.warning(version, REASONS.TamperDetected, `the archive of ${spec.version} ${what}; restoring it from the source`);
    const restored = await fetchAndStore(deps.moduleSource(version), subjectOf(version), spec.version, storage, storageKey, {
      format: spec.fileFormat,
      expectedSha256: recorded,
      signal,
    });
    if (restored.state === 'stored') {
      await deps.events.normal(version, REASONS.Restored, `restored the archive of ${spec.version} from the source (sha256 ${recorded})`);
      await writeReady(deps, version, { checksum: recorded, size: restored.info.size, storageKey }, REASONS.Restored, `the archive ${what} and was restored from the source`);
      return requeue;
    }
    const message = `the stored archive ${what}, and the source no longer matches the recorded sha256 ${recorded}: not serving it. Check storage and the upstream, then set spec.forceSync: true to accept the upstream archive${spec.immutable ? ' (not possible while immutable)' : ''}.`;
    await deps.events.warning(version, REASONS.ChecksumMismatch, message);
    await deps.status.write(version, { conditions: markStalled(version.status?.conditions, { reason: REASONS.ChecksumMismatch, message }), synced: false, syncStatus: message });
    return requeue;
  }

  await deps.status.write(version, {
    conditions: markReconciling(version.status?.conditions, { reason: REASONS.Progressing, message: `fetching ${spec.version} from the source` }),
  });
  // An immutable Version that is forced to sync may only store the very archive it recorded.
  const expected = spec.immutable && recorded ? recorded : undefined;
  const stored = await fetchAndStore(deps.moduleSource(version), subjectOf(version), spec.version, storage, storageKey, {
    format: spec.fileFormat,
    ...(expected && { expectedSha256: expected }),
    signal,
  });
  if (stored.state === 'upstream-differs') {
    const message = `${stored.message}; the Version is immutable, so the stored archive is kept and still served`;
    await deps.events.warning(version, REASONS.ImmutableViolation, message);
    const conditions = setCondition(version.status?.conditions, { type: UPSTREAM_CHANGED, status: 'True', reason: REASONS.ImmutableViolation, message });
    await deps.status.write(version, { conditions: markReady(conditions, { reason: 'Verified', message: `stored archive kept (sha256 ${recorded})` }) });
    await clearForceSync(deps, version, signal);
    return requeue;
  }
  const { info } = stored;
  if (!recorded || recorded !== info.sha256) {
    await deps.events.normal(version, 'ArchiveStored', `stored ${spec.version} (${info.size} bytes, sha256 ${info.sha256})`);
  }
  await writeReady(deps, version, { checksum: info.sha256, size: info.size, storageKey }, REASONS.Succeeded, `stored and verified (sha256 ${info.sha256})`);
  await clearForceSync(deps, version, signal);
  return requeue;
}

async function writeReady(
  deps: VersionControllerDeps,
  version: Version,
  stored: { checksum: string; size: number; storageKey: string },
  reason: string,
  message: string,
): Promise<void> {
  let conditions = markReady(version.status?.conditions, { reason, message });
  if (reason !== 'Verified' || !version.status?.conditions?.some((c) => c.type === UPSTREAM_CHANGED)) conditions = removeCondition(conditions, UPSTREAM_CHANGED);
  await deps.status.write(version, {
    ...stored,
    conditions,
    synced: true,
    syncStatus: message,
    // Stamped only when something else changed, so a periodic verification costs no write.
    ...(version.status?.checksum !== stored.checksum || !version.status?.lastVerifiedTime ? { lastVerifiedTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
  });
}

async function clearForceSync(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  if (version.spec.forceSync) await deps.resource.patch(version.metadata.namespace, version.metadata.name!, { spec: { forceSync: false } }, { signal });
}

/** Records a failed sync: transient ones are retried by the queue (rethrown), others stall. */
async function reportFailure(deps: VersionControllerDeps, version: Version, err: unknown): Promise<ReconcileResult> {
  const condition = toCondition(err);
  const reason = condition.transient
    ? condition.retryAfterMs !== undefined
      ? REASONS.RateLimited
      : REASONS.SourceUnavailable
    : condition.reason === 'NotFound'
      ? REASONS.SourceNotFound
      : condition.reason === 'InvalidInput'
        ? REASONS.InvalidSpec
        : condition.reason;
  await deps.events.warning(version, reason, condition.message);
  const stillServed = Boolean(version.status?.checksum) && version.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (condition.transient) {
    // A Version already stored keeps being served while its re-verification is retried.
    if (!stillServed) {
      await deps.status.write(version, {
        conditions: markReconciling(version.status?.conditions, { reason, message: `${condition.message} (retrying)`, failed: true }),
        synced: false,
        syncStatus: condition.message,
      });
    }
    throw err;
  }
  await deps.status.write(version, { conditions: markStalled(version.status?.conditions, { reason, message: condition.message }), synced: false, syncStatus: condition.message });
  return { requeueAfterMs: deps.verifyIntervalMs };
}

/** Deletes the stored archive, then lets the Version go. */
async function finalize(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  if (!hasFinalizer(version, VERSION_FINALIZER)) return;
  const key = version.status?.storageKey;
  if (key) {
    let storage: StorageBackend | undefined;
    try {
      storage = await deps.storage.resolve(version.spec.storageConfig, 'spec.storageConfig');
    } catch (err) {
      // A storage config that can never work must not block the deletion forever.
      deps.logger.warn('cannot resolve storage of a deleted Version; its archive is left in place', { version: version.metadata.name, err: String(err) });
    }
    if (storage) {
      await storage.delete(key, { signal });
      await deps.events.normal(version, 'ArchiveDeleted', `deleted the stored archive ${key}`);
    }
  }
  await deps.resource.removeFinalizer(version, VERSION_FINALIZER, { signal });
  deps.status.forget(version.metadata.uid);
}

function subjectOf(version: Version) {
  const m = version.spec.module!;
  return moduleArchiveSubject(
    { name: m.name, provider: m.provider, ...(m.repoOwner && { repoOwner: m.repoOwner }), ...(m.repoUrl && { repoUrl: m.repoUrl }), ...(m.source && { source: m.source }) },
    { namespace: version.metadata.namespace!, ...(m.githubClientConfig && { githubClientConfig: m.githubClientConfig }) },
  );
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}
