/**
 * The Depot controller: for each entry, list the upstream's versions, keep those matching the
 * entry's constraints, and server-side apply the Module or Provider with the merged config.
 * Each entry succeeds or fails on its own (one upstream that is down never blocks the others);
 * the Depot owns only the fields it applies (its own field manager), never removes a version,
 * and never sets owner references, so deleting it leaves everything it made in place.
 */
import type { ArchiveSource, ArchiveSubject } from '@opendepot/sdk';
import { conditionMessage, toCondition, type Depot, type Informer, type Module, type Provider, type ResourceClient } from '@opendepot/core';
import { type EventRecorder, REASONS, type StatusWriter, markReady, markReconciling, markStalled, type ReconcileResult } from '../runtime/index.ts';
import { moduleArchiveSubject, providerArchiveSubject } from '@opendepot/archive-kit';
import { moduleSourceName, providerSourceName } from './source-names.ts';
import { DEPOT_FIELD_MANAGER, REQUESTED_POLL_ANNOTATION, mergedVersions, moduleFor, providerFor, selectVersions } from './depot-plan.ts';

/** What the Depot controller needs. */
export interface DepotControllerDeps {
  depots: Informer<Depot>;
  modules: Informer<Module>;
  providers: Informer<Provider>;
  depotResource: ResourceClient<Depot>;
  moduleResource: ResourceClient<Module>;
  providerResource: ResourceClient<Provider>;
  status: StatusWriter<Depot>;
  events: EventRecorder;
  /** The source that lists versions of a module (`github`/`git`) or a provider (`hashicorp-releases`/`registry`). */
  sourceOf(kind: 'module' | 'provider', sourceKind: string): ArchiveSource;
  /** How many entries poll at once. */
  concurrency?: number;
}

/** One line of `status.entries`. */
interface EntryStatus {
  kind: 'Module' | 'Provider';
  name: string;
  versionsFound?: number;
  versionsSelected?: number;
  latestSelected?: string;
  lastPollTime?: string;
  ready: boolean;
  reason: string;
  message: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Makes the reconcile function of the Depot controller. */
export function depotReconciler(deps: DepotControllerDeps) {
  return async function reconcileDepot(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const at = key.indexOf('/');
    const depot = deps.depots.get(key.slice(0, at), key.slice(at + 1));
    if (!depot || depot.metadata.deletionTimestamp) return;
    const intervalMs = depot.spec.pollingIntervalMinutes ? depot.spec.pollingIntervalMinutes * 60_000 : undefined;
    const requested = depot.metadata.annotations?.[REQUESTED_POLL_ANNOTATION];
    const status = depot.status;
    const due =
      status?.observedGeneration !== depot.metadata.generation ||
      !status?.lastPollTime ||
      (requested !== undefined && requested !== status.lastHandledPollRequest) ||
      (intervalMs !== undefined && Date.parse(status.lastPollTime) + intervalMs <= Date.now() + 1_000);
    if (!due) {
      // Nothing to do yet (an operator restart, an informer resync): wait for the next poll.
      return intervalMs !== undefined ? { requeueAfterMs: Math.max(1_000, Date.parse(status!.lastPollTime!) + intervalMs - Date.now()) } : undefined;
    }

    const previous = new Map((status?.entries ?? []).map((e) => [`${e.kind}/${e.name}`, e]));
    const jobs: (() => Promise<EntryStatus>)[] = [
      ...(depot.spec.moduleConfigs ?? []).map((entry) => () => syncEntry(deps, depot, 'Module', entry.name, previous, signal, () => syncModule(deps, depot, entry, signal))),
      ...(depot.spec.providerConfigs ?? []).map((entry) => () => syncEntry(deps, depot, 'Provider', entry.name, previous, signal, () => syncProvider(deps, depot, entry, signal))),
    ];
    const entries = await runLimited(jobs, deps.concurrency ?? 4);

    const failed = entries.filter((e) => !e.ready);
    const pollTime = now();
    const modules = entries.filter((e) => e.kind === 'Module').map((e) => e.name);
    const providers = entries.filter((e) => e.kind === 'Provider').map((e) => e.name);
    const summary = failed.length === 0 ? `${entries.length} entries synced` : `${failed.length} of ${entries.length} entries failed; ${failed[0]!.kind} ${failed[0]!.name}: ${failed[0]!.message}`;
    const conditions =
      failed.length === 0
        ? markReady(status?.conditions, { reason: REASONS.Succeeded, message: summary })
        : failed.some((e) => e.reason === REASONS.InvalidSpec)
          ? markStalled(status?.conditions, { reason: failed[0]!.reason, message: summary })
          : markReconciling(status?.conditions, { reason: failed[0]!.reason, message: summary, failed: true });
    await deps.status.write(depot, {
      conditions,
      entries,
      modules,
      providers,
      moduleCount: modules.length,
      providerCount: providers.length,
      lastPollTime: pollTime,
      nextPollTime: intervalMs !== undefined ? new Date(Date.now() + intervalMs).toISOString().replace(/\.\d+Z$/, 'Z') : null,
      ...(requested !== undefined && { lastHandledPollRequest: requested }),
      versionsSynced: entries.filter((e) => e.ready).length,
      versionsTotal: entries.length,
      progress: `${entries.length - failed.length}/${entries.length}`,
      synced: failed.length === 0,
      syncStatus: conditionMessage(summary),
    });
    // A failed entry is retried sooner than the next regular poll (capped by it).
    if (failed.length > 0) return { requeueAfterMs: Math.min(intervalMs ?? Infinity, 60_000) };
    return intervalMs !== undefined ? { requeueAfterMs: intervalMs } : undefined;
  };
}

/** Runs one entry, turning its failure into its own status line and a Warning Event. */
async function syncEntry(
  deps: DepotControllerDeps,
  depot: Depot,
  kind: 'Module' | 'Provider',
  name: string,
  previous: Map<string, { lastPollTime?: string }>,
  signal: AbortSignal,
  run: () => Promise<{ found: number; selected: string[] }>,
): Promise<EntryStatus> {
  try {
    const { found, selected } = await run();
    return {
      kind,
      name,
      versionsFound: found,
      versionsSelected: selected.length,
      ...(selected[0] && { latestSelected: selected[0] }),
      lastPollTime: now(),
      ready: true,
      reason: REASONS.Synced,
      message: `${selected.length} of ${found} upstream versions match; ${kind} ${name} is up to date`,
    };
  } catch (err) {
    if (signal.aborted) throw err;
    const { reason, message } = toCondition(err);
    await deps.events.warning(depot, reason, `${kind} ${name}: ${message}`);
    const last = previous.get(`${kind}/${name}`)?.lastPollTime;
    return { kind, name, ...(last && { lastPollTime: last }), ready: false, reason, message };
  }
}

async function syncModule(deps: DepotControllerDeps, depot: Depot, entry: NonNullable<Depot['spec']['moduleConfigs']>[number], signal: AbortSignal) {
  const probe = moduleFor(depot, entry, []);
  const mc = probe.spec.moduleConfig;
  const subject: ArchiveSubject = moduleArchiveSubject(
    { name: mc.name, provider: mc.provider, ...(mc.repoOwner && { repoOwner: mc.repoOwner }), ...(mc.repoUrl && { repoUrl: mc.repoUrl }), ...(mc.source && { source: mc.source }) },
    { namespace: depot.metadata.namespace!, ...(probe.spec.githubClientConfig && { githubClientConfig: probe.spec.githubClientConfig }) },
  );
  const found = await deps.sourceOf('module', moduleSourceName(mc)).listVersions(subject, { signal });
  const selected = selectVersions(
    found.map((v) => v.version),
    entry.versionConstraints!,
    `moduleConfigs[${entry.name}].versionConstraints`,
  );
  const current = deps.modules.get(depot.metadata.namespace, entry.name);
  const module = moduleFor(depot, entry, mergedVersions(current?.spec.versions, selected));
  await apply(deps.moduleResource, module, signal);
  return { found: found.length, selected };
}

async function syncProvider(deps: DepotControllerDeps, depot: Depot, entry: NonNullable<Depot['spec']['providerConfigs']>[number], signal: AbortSignal) {
  const probe = providerFor(depot, entry, []);
  const pc = probe.spec.providerConfig;
  const subject = providerArchiveSubject({
    name: pc.name,
    ...(pc.namespace && { namespace: pc.namespace }),
    ...(pc.source && { source: pc.source }),
    ...(pc.registryUrl && { registryUrl: pc.registryUrl }),
  });
  const found = await deps.sourceOf('provider', providerSourceName(pc)).listVersions(subject, { signal });
  const selected = selectVersions(
    found.map((v) => v.version),
    entry.versionConstraints!,
    `providerConfigs[${entry.name}].versionConstraints`,
  );
  const current = deps.providers.get(depot.metadata.namespace, entry.name);
  const provider = providerFor(depot, entry, mergedVersions(current?.spec.versions, selected));
  await apply(deps.providerResource, provider, signal);
  return { found: found.length, selected };
}

/** Server-side apply as the Depot: only its fields; it takes them back from hand edits. */
async function apply<T extends Module | Provider>(resource: ResourceClient<T>, obj: T, signal: AbortSignal): Promise<void> {
  await resource.apply(obj as never, { fieldManager: DEPOT_FIELD_MANAGER, force: true, signal });
}

/** Runs `jobs` with at most `limit` at once, keeping their order in the result. */
async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
