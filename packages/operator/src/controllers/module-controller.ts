/**
 * The Module controller: one Version per listed version (owned by the Module, labelled with it),
 * progress and the latest Ready version in status, `versionHistoryLimit`, `forceSync`, and removal
 * of Versions no longer listed. It deletes its Versions itself on Module deletion (a finalizer),
 * so the stored archives go too, with or without a garbage collector.
 */
import { isOpenDepotError } from '@opendepot/sdk';
import { type Informer, type Module, type ResourceClient, type StorageConfig, type Version } from '@opendepot/core';
import { EventRecorder, REASONS, StatusWriter, hasFinalizer, isBeingDeleted, markReady, markReconciling, markStalled, type ReconcileResult } from '../runtime/index.ts';
import { MODULE_FINALIZER, OWNER_KIND_LABEL, OWNER_NAME_LABEL, labelValue } from './naming.ts';
import { isReady, latestReady, planModule, versionObject } from './module-plan.ts';

/** What the Module controller needs. */
export interface ModuleControllerDeps {
  modules: Informer<Module>;
  versions: Informer<Version>;
  moduleResource: ResourceClient<Module>;
  versionResource: ResourceClient<Version>;
  status: StatusWriter<Module>;
  events: EventRecorder;
  /** The chart's default storageConfig, for Modules that set none. */
  defaultStorageConfig?: StorageConfig;
}

/** The Versions the informer cache holds for a Module (by owner label, then owner reference). */
export function versionsOf(versions: Informer<Version>, module: Module): Version[] {
  const name = module.metadata.name!;
  return versions
    .list(module.metadata.namespace)
    .filter((v) => v.spec.kind === 'Module' && v.metadata.labels?.[OWNER_KIND_LABEL] === 'Module' && v.metadata.labels?.[OWNER_NAME_LABEL] === labelValue(name) && v.spec.ownerName === name);
}

/** Makes the reconcile function of the Module controller. */
export function moduleReconciler(deps: ModuleControllerDeps) {
  return async function reconcileModule(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const at = key.indexOf('/');
    const namespace = key.slice(0, at);
    let module = deps.modules.get(namespace, key.slice(at + 1));
    if (!module) return;
    const owned = versionsOf(deps.versions, module);

    if (isBeingDeleted(module)) {
      if (!hasFinalizer(module, MODULE_FINALIZER)) return;
      for (const v of owned) if (!v.metadata.deletionTimestamp) await deps.versionResource.delete(namespace, v.metadata.name!, { signal });
      // Wait until every Version (and its stored archive) is gone; Version changes wake us.
      if (owned.length > 0) return;
      await deps.moduleResource.removeFinalizer(module, MODULE_FINALIZER, { signal });
      deps.status.forget(module.metadata.uid);
      return;
    }
    if (!hasFinalizer(module, MODULE_FINALIZER)) module = await deps.moduleResource.addFinalizer(module, MODULE_FINALIZER, { signal });

    let plan;
    try {
      plan = planModule(module, owned, deps.defaultStorageConfig);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await deps.events.warning(module, REASONS.InvalidSpec, message);
      await deps.status.write(module, { conditions: markStalled(module.status?.conditions, { reason: REASONS.InvalidSpec, message }), synced: false, syncStatus: message });
      return;
    }

    for (const wanted of plan.create) {
      try {
        await deps.versionResource.create(versionObject(module, wanted), { signal });
        await deps.events.normal(module, 'VersionCreated', `created Version ${wanted.name} for ${wanted.spec.version}`);
      } catch (err) {
        if (!isOpenDepotError(err, 'conflict')) throw err; // already there: the cache was behind
      }
    }
    for (const wanted of plan.update) {
      await deps.versionResource.patch(namespace, wanted.name, { metadata: { labels: wanted.labels }, spec: { ...wanted.spec } }, { signal });
    }
    for (const name of plan.remove) {
      await deps.versionResource.delete(namespace, name, { signal });
      await deps.events.normal(module, 'VersionRemoved', `removed Version ${name}: no longer listed or beyond versionHistoryLimit`);
    }
    if (module.spec.forceSync) {
      for (const v of owned) if (!plan.remove.includes(v.metadata.name!)) await deps.versionResource.patch(namespace, v.metadata.name!, { spec: { forceSync: true } }, { signal });
      await deps.moduleResource.patch(namespace, module.metadata.name!, { spec: { forceSync: false } }, { signal });
      await deps.events.normal(module, 'ForceSync', `asked ${owned.length} Versions to fetch and store their archives again`);
    }

    await writeModuleStatus(deps, module, plan.wanted, owned, plan.kept.map((k) => k.reason));
  };
}

async function writeModuleStatus(deps: ModuleControllerDeps, module: Module, wanted: string[], owned: Version[], kept: string[]): Promise<void> {
  const relevant = owned.filter((v) => wanted.includes(v.spec.version.replace(/^v/, '')));
  const synced = relevant.filter(isReady).length;
  const total = wanted.length;
  const stalled = relevant.filter((v) => v.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True'));
  const latest = latestReady(relevant);
  const progress = `${synced}/${total}`;
  let conditions;
  let summary: string;
  if (stalled.length > 0) {
    const first = stalled[0]!.status!.conditions!.find((c) => c.type === 'Stalled')!;
    summary = `${stalled.length} of ${total} versions stalled; ${stalled[0]!.spec.version}: ${first.message}`;
    conditions = markStalled(module.status?.conditions, { reason: first.reason, message: summary });
  } else if (synced === total) {
    summary = `versions synced: ${progress}${kept.length ? `; kept ${kept.length} unlisted immutable versions` : ''}`;
    conditions = markReady(module.status?.conditions, { reason: REASONS.Succeeded, message: summary });
  } else {
    const failing = relevant.find((v) => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'));
    const why = failing?.status?.conditions?.find((c) => c.type === 'Ready');
    summary = `versions synced: ${progress}${why ? `; ${failing!.spec.version}: ${why.message}` : ''}`;
    conditions = markReconciling(module.status?.conditions, { reason: why?.reason ?? REASONS.Progressing, message: summary, failed: Boolean(why) });
  }
  await deps.status.write(module, {
    conditions,
    versionsSynced: synced,
    versionsTotal: total,
    progress,
    synced: synced === total && stalled.length === 0,
    syncStatus: summary,
    ...(latest ? { latestVersion: latest } : { latestVersion: null }),
  });
}
