/**
 * The controller of Version owners (Modules and Providers): the owner's Versions are created,
 * updated and removed to match its spec; progress, the latest Ready version and the summary
 * conditions go into its status; `forceSync` is passed down; and on deletion the owner removes
 * its Versions itself (a finalizer), so stored archives go too, with or without a garbage
 * collector.
 */
import { InputError, isOpenDepotError } from '@opendepot/sdk';
import { INTEGRITY_VERIFIED, conditionMessage, isIntegrityReason, toCondition, type Informer, type KubeObject, type ResourceClient, type Version } from '@opendepot/core';
import {
  CONDITIONS,
  type EventRecorder,
  REASONS,
  type StatusWriter,
  hasFinalizer,
  isBeingDeleted,
  markReady,
  markReconciling,
  markStalled,
  removeCondition,
  setCondition,
  type ReconcileResult,
} from '../runtime/index.ts';
import { MODULE_FINALIZER, OWNER_KIND_LABEL, OWNER_NAME_LABEL, PREVIOUS_STORAGE_ANNOTATION, labelValue } from './naming.ts';
import { isReady, latestReady, replacingPatch, storageMoved, versionIdentity, versionObject, type VersionPlan } from './version-plan.ts';

/** An owner object: a Module or a Provider. */
export type Owner = KubeObject & { metadata: { name?: string; namespace?: string; uid?: string }; spec: { forceSync?: boolean }; status?: { conditions?: import('@opendepot/core').Condition[] } };

/** What differs between Modules and Providers. */
export interface OwnerKind<T extends Owner> {
  kind: 'Module' | 'Provider';
  informer: Informer<T>;
  resource: ResourceClient<T>;
  status: StatusWriter<T>;
  /** The plan, and the identities (`version` or `version/os_arch`) the owner wants. */
  plan(owner: T, owned: readonly Version[]): VersionPlan & { wanted: string[] };
  /** Kind-specific status fields (e.g. per-platform progress of a Provider). */
  extraStatus?(owner: T, relevant: readonly Version[], wanted: readonly string[]): Record<string, unknown>;
}

/** What every owner controller needs besides its kind. */
export interface OwnerControllerDeps {
  versions: Informer<Version>;
  versionResource: ResourceClient<Version>;
  events: EventRecorder;
}

/** The Versions the informer cache holds for an owner (by owner labels and spec). */
export function versionsOwnedBy(versions: Informer<Version>, kind: 'Module' | 'Provider', owner: Owner): Version[] {
  const name = owner.metadata.name!;
  return versions
    .list(owner.metadata.namespace)
    .filter((v) => v.spec.kind === kind && v.metadata.labels?.[OWNER_KIND_LABEL] === kind && v.metadata.labels?.[OWNER_NAME_LABEL] === labelValue(name) && v.spec.ownerName === name);
}

/** Makes the reconcile function of an owner controller. */
export function ownerReconciler<T extends Owner>(kind: OwnerKind<T>, deps: OwnerControllerDeps) {
  return async function reconcileOwner(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const at = key.indexOf('/');
    const namespace = key.slice(0, at);
    let owner = kind.informer.get(namespace, key.slice(at + 1));
    if (!owner) return;
    const owned = versionsOwnedBy(deps.versions, kind.kind, owner);

    if (isBeingDeleted(owner)) {
      if (!hasFinalizer(owner, MODULE_FINALIZER)) return;
      for (const v of owned) if (!v.metadata.deletionTimestamp) await deps.versionResource.delete(namespace, v.metadata.name!, { signal });
      // Wait until every Version (and its stored archive) is gone; Version changes wake us.
      if (owned.length > 0) return;
      await kind.resource.removeFinalizer(owner, MODULE_FINALIZER, { signal });
      kind.status.forget(owner.metadata.uid);
      return;
    }
    if (!hasFinalizer(owner, MODULE_FINALIZER)) owner = await kind.resource.addFinalizer(owner, MODULE_FINALIZER, { signal });

    let plan;
    try {
      plan = kind.plan(owner, owned);
    } catch (err) {
      const { reason, message } = planFailure(err);
      await deps.events.warning(owner, reason, message);
      await kind.status.write(owner, { conditions: markStalled(owner.status?.conditions, { reason, message }), synced: false, syncStatus: message } as never);
      return;
    }

    const ref = { kind: kind.kind, name: owner.metadata.name!, namespace, uid: owner.metadata.uid! };
    for (const wanted of plan.create) {
      try {
        await deps.versionResource.create(versionObject(ref, wanted), { signal });
      } catch (err) {
        if (!isOpenDepotError(err, 'conflict')) throw err; // already there: the cache was behind
      }
    }
    if (plan.create.length > 0) await deps.events.normal(owner, REASONS.VersionsCreated, `created ${plan.create.length} Versions: ${plan.create.map((w) => w.name).join(', ')}`);
    const movedVersions: string[] = [];
    for (const wanted of plan.update) {
      const current = owned.find((v) => v.metadata.name === wanted.name);
      // forceSync is the Version's own until its controller clears it: never part of the replacement.
      const { forceSync: _, ...spec } = current?.spec ?? ({} as Partial<Version['spec']>);
      // A stored archive that moves: say where it is (unless an earlier move has not finished; it is still there).
      const moved = current !== undefined && storageMoved(current.spec, wanted.spec) && Boolean(current.status?.checksum);
      const previous = moved && !current.metadata.annotations?.[PREVIOUS_STORAGE_ANNOTATION] ? { annotations: { [PREVIOUS_STORAGE_ANNOTATION]: JSON.stringify(current.spec.storageConfig) } } : {};
      await deps.versionResource.patch(namespace, wanted.name, { metadata: { labels: wanted.labels, ...previous }, spec: replacingPatch(spec, wanted.spec) as never }, { signal });
      if (moved) movedVersions.push(wanted.name);
    }
    if (movedVersions.length > 0) {
      await deps.events.normal(
        owner,
        REASONS.StorageChanged,
        `${movedVersions.length} stored Versions follow the new storageConfig; their archives are copied there with their recorded sha256: ${movedVersions.join(', ')}`,
      );
    }
    for (const name of plan.remove) {
      await deps.versionResource.delete(namespace, name, { signal });
      await deps.events.normal(owner, REASONS.VersionRemoved, `removed Version ${name}: no longer listed or beyond versionHistoryLimit`);
    }
    if (owner.spec.forceSync) {
      for (const v of owned) if (!plan.remove.includes(v.metadata.name!)) await deps.versionResource.patch(namespace, v.metadata.name!, { spec: { forceSync: true } }, { signal });
      await kind.resource.patch(namespace, owner.metadata.name!, { spec: { forceSync: false } } as never, { signal });
      await deps.events.normal(owner, REASONS.ForceSync, `asked ${owned.length} Versions to fetch and store their archives again`);
    }
    await writeOwnerStatus(
      kind,
      deps,
      owner,
      plan.wanted,
      owned,
      plan.kept.map((k) => k.reason),
    );
  };
}

/**
 * The condition of a plan that failed, through the one error mapping (which redacts and bounds
 * the message). A plan is a pure function of the owner's spec, so a failure that is not an
 * OpenDepot error is the spec's too (InvalidSpec); the owner stalls either way.
 */
export function planFailure(err: unknown): { reason: string; message: string } {
  const specError = isOpenDepotError(err) ? err : new InputError(err instanceof Error ? err.message : String(err), { cause: err });
  const { reason, message } = toCondition(specError);
  return { reason, message };
}

const MAX_PROBLEMS = 100;
const UPSTREAM_CHANGED = CONDITIONS.UpstreamChanged;

/** One Version's integrity problem, as the owner's status lists it. */
export interface IntegrityProblem {
  version: string;
  reason: string;
  served: boolean;
  message: string;
}

/**
 * The integrity problems of an owner's Versions: an immutable Version whose upstream changed
 * (UpstreamChanged=True; its stored archive is still served), and a Version stalled because a
 * checksum or signature did not match (refused, or no longer served).
 */
export function integrityProblems(versions: readonly Version[]): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  for (const v of versions) {
    const conditions = v.status?.conditions ?? [];
    const stalled = conditions.find((c) => c.type === 'Stalled' && c.status === 'True' && isIntegrityReason(c.reason));
    const changed = conditions.find((c) => c.type === UPSTREAM_CHANGED && c.status === 'True');
    const found = stalled ?? changed;
    if (found) problems.push({ version: versionIdentity(v.spec), reason: found.reason, served: !stalled && isReady(v), message: found.message.slice(0, 1024) });
  }
  return problems.sort((a, b) => a.version.localeCompare(b.version));
}

/** `status.integrity`: Verified, or the first problem's reason (UpstreamChanged for a changed upstream) and its versions. */
function integritySummary(problems: readonly IntegrityProblem[]): string {
  if (problems.length === 0) return INTEGRITY_VERIFIED;
  const first = problems[0]!;
  const label = (p: IntegrityProblem) => (p.reason === REASONS.ImmutableViolation ? UPSTREAM_CHANGED : p.reason);
  const same = problems.filter((p) => label(p) === label(first)).map((p) => p.version);
  const others = problems.length - same.length;
  return `${label(first)}: ${same.slice(0, 5).join(', ')}${same.length > 5 ? ` and ${same.length - 5} more` : ''}${others ? `; ${others} other problems` : ''}`.slice(0, 1024);
}

async function writeOwnerStatus<T extends Owner>(kind: OwnerKind<T>, deps: OwnerControllerDeps, owner: T, wanted: string[], owned: Version[], kept: string[]): Promise<void> {
  const wantedSet = new Set(wanted);
  const relevant = owned.filter((v) => wantedSet.has(versionIdentity(v.spec)));
  const synced = relevant.filter(isReady).length;
  const total = wanted.length;
  const stalled = relevant.filter((v) => v.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True'));
  const latest = latestReady(relevant);
  const progress = `${synced}/${total}`;
  let conditions;
  let summary: string;
  if (stalled.length > 0) {
    const first = stalled[0]!.status!.conditions!.find((c) => c.type === 'Stalled')!;
    summary = `${stalled.length} of ${total} stalled; ${versionIdentity(stalled[0]!.spec)}: ${first.message}`;
    conditions = markStalled(owner.status?.conditions, { reason: first.reason, message: summary });
  } else if (synced === total) {
    summary = `versions synced: ${progress}${kept.length ? `; kept ${kept.length} unlisted immutable versions` : ''}`;
    conditions = markReady(owner.status?.conditions, { reason: REASONS.Succeeded, message: summary });
  } else {
    const failing = relevant.find((v) => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'));
    const why = failing?.status?.conditions?.find((c) => c.type === 'Ready');
    summary = `versions synced: ${progress}${why ? `; ${versionIdentity(failing!.spec)}: ${why.message}` : ''}`;
    conditions = markReconciling(owner.status?.conditions, { reason: why?.reason ?? REASONS.Progressing, message: summary, failed: Boolean(why) });
  }
  // Integrity problems of every owned Version, kept unlisted ones too: they are served.
  const problems = integrityProblems(owned);
  const changed = problems.filter((p) => p.reason === REASONS.ImmutableViolation);
  if (changed.length > 0) {
    // Bounded as the condition will hold it, so an unchanged message is recognised and not reported again.
    const message = conditionMessage(
      `the upstream archive changed for ${changed.length} immutable version${changed.length === 1 ? '' : 's'} (${changed
        .map((p) => p.version)
        .slice(0, 10)
        .join(', ')}); the stored archives are kept and still served. ${changed[0]!.version}: ${changed[0]!.message}`,
    );
    const known = owner.status?.conditions?.find((c) => c.type === UPSTREAM_CHANGED && c.status === 'True');
    if (known?.message !== message) await deps.events.warning(owner, REASONS.ImmutableViolation, message);
    conditions = setCondition(conditions, { type: UPSTREAM_CHANGED, status: 'True', reason: REASONS.ImmutableViolation, message });
    summary += `; upstream changed: ${changed
      .map((p) => p.version)
      .slice(0, 10)
      .join(', ')}`;
  } else {
    conditions = removeCondition(conditions, UPSTREAM_CHANGED);
  }
  await kind.status.write(owner, {
    conditions,
    versionsSynced: synced,
    versionsTotal: total,
    progress,
    synced: synced === total && stalled.length === 0,
    syncStatus: conditionMessage(summary),
    latestVersion: latest ?? null,
    integrity: integritySummary(problems),
    integrityProblems: problems.slice(0, MAX_PROBLEMS),
    ...kind.extraStatus?.(owner, relevant, wanted),
  } as never);
}
