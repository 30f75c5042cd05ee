/**
 * metav1.Conditions the Kubernetes way (and the way kstatus, Argo CD and Flux read them):
 * `lastTransitionTime` moves only when a condition's status changes, every condition records the
 * generation it was computed for, and the summary conditions stay consistent:
 * - Ready=True: done; Reconciling and Stalled are removed;
 * - Reconciling=True: work in progress (or a retried failure); Ready is Unknown or False;
 * - Stalled=True: no progress without a change from the user; Ready=False; Reconciling removed.
 */
import { CONDITIONS, REASONS, conditionMessage, type Condition } from '@opendepot/core';

/** The condition types and the one reason table live in core; re-exported for the controllers. */
export { CONDITIONS, REASONS };

/** What to set; `lastTransitionTime` is computed. */
export interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Summary update: reason, message and the generation they are about. */
export interface SummaryInput {
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Kubernetes' time format: RFC 3339 in UTC, whole seconds. */
export function conditionTime(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The condition of `type`, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` is present with status True. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Returns `conditions` with `input` set: replaced in place when the type exists (keeping its
 * `lastTransitionTime` unless the status changes), appended otherwise. Never mutates its input.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date = new Date()): Condition[] {
  const list = [...(conditions ?? [])];
  const at = list.findIndex((c) => c.type === input.type);
  const previous = at >= 0 ? list[at] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    // Every message is redacted and bounded here, whoever composed it.
    message: conditionMessage(input.message),
    lastTransitionTime: previous && previous.status === input.status ? previous.lastTransitionTime : conditionTime(now),
  };
  if (input.observedGeneration !== undefined) next.observedGeneration = input.observedGeneration;
  if (at >= 0) list[at] = next;
  else list.push(next);
  return list;
}

/** Returns `conditions` without the condition of `type`. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** Ready=True; Reconciling and Stalled removed. */
export function markReady(conditions: readonly Condition[] | undefined, input: Partial<SummaryInput> = {}, now?: Date): Condition[] {
  const summary = { reason: input.reason ?? REASONS.Succeeded, message: input.message ?? 'Reconciled', observedGeneration: input.observedGeneration };
  let list = setCondition(conditions, { type: CONDITIONS.Ready, status: 'True', ...summary }, now);
  list = removeCondition(list, CONDITIONS.Reconciling);
  return removeCondition(list, CONDITIONS.Stalled);
}

/**
 * Reconciling=True with Ready=Unknown (work in progress), or Ready=False when `failed` (a
 * failure that is being retried); Stalled removed.
 */
export function markReconciling(conditions: readonly Condition[] | undefined, input: SummaryInput & { failed?: boolean }, now?: Date): Condition[] {
  const { failed, ...summary } = input;
  let list = setCondition(conditions, { type: CONDITIONS.Reconciling, status: 'True', ...summary }, now);
  list = setCondition(list, { type: CONDITIONS.Ready, status: failed ? 'False' : 'Unknown', ...summary }, now);
  return removeCondition(list, CONDITIONS.Stalled);
}

/** Stalled=True and Ready=False with the same reason; Reconciling removed. */
export function markStalled(conditions: readonly Condition[] | undefined, input: SummaryInput, now?: Date): Condition[] {
  let list = setCondition(conditions, { type: CONDITIONS.Stalled, status: 'True', ...input }, now);
  list = setCondition(list, { type: CONDITIONS.Ready, status: 'False', ...input }, now);
  return removeCondition(list, CONDITIONS.Reconciling);
}

/** True when the Ready condition is True and was computed for `generation`. */
export function isReadyFor(conditions: readonly Condition[] | undefined, generation: number | undefined): boolean {
  const ready = findCondition(conditions, CONDITIONS.Ready);
  return ready?.status === 'True' && (generation === undefined || ready.observedGeneration === generation);
}
