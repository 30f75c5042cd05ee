/**
 * A Version reconcile's one outcome, and the one summarize step that turns it into status (the
 * shape of Flux's summarize-and-patch): the steps say what happened (a reason, a message, what
 * was stored); only here are conditions built and the compatibility fields derived from Ready.
 */
import type { Condition, DocsSummary, MergePatch, ScanSummary, Version, VersionStatus } from '@opendepot/core';
import { CONDITIONS, REASONS, findCondition, markReady, markReconciling, markStalled, removeCondition, setCondition } from '../runtime/index.ts';

/** What was stored (or verified in storage): the status fields that describe the archive. */
export interface StoredArchive {
  checksum: string;
  size: number;
  storageKey: string;
  filename?: string;
  h1?: string;
  zh?: string;
  protocols?: string[];
  /** The scan of these bytes; null: an earlier scan no longer describes them. */
  scan?: ScanSummary | null;
  /** What the browse UI lists of a module version's documentation (kept in storage). */
  docs?: DocsSummary;
}

/** What comparing an immutable Version with its upstream found. */
export interface UpstreamFinding {
  changed: boolean;
  message?: string;
}

/** The outcome of one reconcile of a Version. */
export type VersionOutcome =
  /** The stored archive is served: stored, verified, copied or restored. */
  | { state: 'ready'; reason: string; message: string; stored?: StoredArchive; upstream?: UpstreamFinding }
  /** Work in progress (Reconciling, Ready=Unknown). */
  | { state: 'progressing'; reason: string; message: string }
  /** A failure the queue retries (Reconciling, Ready=False). */
  | { state: 'retrying'; reason: string; message: string }
  /**
   * Needs a change from a person (Stalled, Ready=False); `scan` when a scan refused it;
   * `forgetStored` when the archive it served was deleted (so nothing verifies it back to Ready).
   */
  | { state: 'stalled'; reason: string; message: string; scan?: ScanSummary; forgetStored?: boolean };

/** Kubernetes' time format: RFC 3339 in UTC, whole seconds. */
function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Whether a Ready outcome keeps, sets or removes UpstreamChanged: set when the upstream was found
 * changed; removed once it matches again or new bytes were stored; kept while only the stored
 * bytes were verified or copied (no comparison this time).
 */
function upstreamChanged(conditions: Condition[], outcome: Extract<VersionOutcome, { state: 'ready' }>, now: Date) {
  const { upstream, reason } = outcome;
  if (upstream?.changed) return setCondition(conditions, { type: CONDITIONS.UpstreamChanged, status: 'True', reason: REASONS.ImmutableViolation, message: upstream.message ?? '' }, now);
  if (upstream || (reason !== REASONS.Verified && reason !== REASONS.StorageChanged)) return removeCondition(conditions, CONDITIONS.UpstreamChanged);
  return conditions;
}

/**
 * The status patch for `outcome` over the Version's current status: the summary conditions
 * (Ready, Reconciling, Stalled), UpstreamChanged, the stored fields, and the compatibility fields
 * `synced`/`syncStatus`, which only mirror Ready.
 */
export function summarizeVersion(status: Version['status'], outcome: VersionOutcome, now: Date = new Date()): MergePatch<VersionStatus> {
  const previous = status?.conditions;
  const summary = { reason: outcome.reason, message: outcome.message };
  const patch: MergePatch<VersionStatus> = {};
  let conditions;
  switch (outcome.state) {
    case 'ready': {
      conditions = upstreamChanged(markReady(previous, summary, now), outcome, now);
      const { stored } = outcome;
      if (stored) {
        Object.assign(patch, stored);
        // Stamped only when something else changed, so a periodic verification costs no write.
        if (status?.checksum !== stored.checksum || !status?.lastVerifiedTime) patch.lastVerifiedTime = timestamp(now);
      }
      break;
    }
    case 'progressing':
      conditions = markReconciling(previous, summary, now);
      break;
    case 'retrying':
      conditions = markReconciling(previous, { ...summary, failed: true }, now);
      break;
    case 'stalled':
      conditions = markStalled(previous, summary, now);
      if (outcome.scan) patch.scan = outcome.scan;
      if (outcome.forgetStored) Object.assign(patch, { checksum: null, size: null, storageKey: null, h1: null, zh: null, lastVerifiedTime: null });
      break;
  }
  const ready = findCondition(conditions, CONDITIONS.Ready);
  return { ...patch, conditions, synced: ready?.status === 'True', syncStatus: ready?.message ?? '' };
}
