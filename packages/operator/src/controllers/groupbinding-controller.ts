/**
 * The GroupBinding controller: compiles each binding's expression and globs (the server compiles
 * them again from its own cache; this is how people learn that theirs is wrong) and writes
 * `Ready=True`, or `Ready=False` and `Stalled=True` with the reason `InvalidExpression` or
 * `InvalidResourcePattern` and the parser's message, plus a Warning Event. An invalid binding
 * grants nothing; only a change to it can fix it, so it is not retried.
 */
import { InvalidGroupBindingError, compileGroupBinding, type GroupBinding, type Informer } from '@opendepot/core';
import { type EventRecorder, REASONS, type StatusWriter, markReady, markStalled, type ReconcileResult } from '../runtime/index.ts';

/** What the GroupBinding controller needs. */
export interface GroupBindingControllerDeps {
  groupBindings: Informer<GroupBinding>;
  status: StatusWriter<GroupBinding>;
  events: EventRecorder;
}

/** The Ready message of a valid binding: what it grants (bounded where conditions are set). */
function grantsSummary(binding: GroupBinding): string {
  const list = (globs: readonly string[] | undefined) => (globs && globs.length > 0 ? globs.join(', ') : 'none');
  return `expression compiled; grants modules: ${list(binding.spec.moduleResources)}; providers: ${list(binding.spec.providerResources)}`;
}

/** Makes the reconcile function of the GroupBinding controller. */
export function groupBindingReconciler(deps: GroupBindingControllerDeps) {
  return async function reconcileGroupBinding(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const at = key.indexOf('/');
    const cached = deps.groupBindings.get(key.slice(0, at), key.slice(at + 1));
    if (!cached) return;
    if (cached.metadata.deletionTimestamp) {
      deps.status.forget(cached.metadata.uid);
      return;
    }
    const binding = deps.status.current(cached);
    const generation = binding.metadata.generation;
    let invalid: InvalidGroupBindingError | undefined;
    try {
      compileGroupBinding(binding);
    } catch (err) {
      if (!(err instanceof InvalidGroupBindingError)) throw err;
      invalid = err;
    }
    const conditions = invalid
      ? markStalled(binding.status?.conditions, { reason: invalid.reason, message: invalid.message, observedGeneration: generation })
      : markReady(binding.status?.conditions, { reason: REASONS.Succeeded, message: grantsSummary(binding), observedGeneration: generation });
    const { written } = await deps.status.write(binding, { conditions }, { signal });
    if (invalid && written) await deps.events.warning(binding, invalid.reason, invalid.message);
  };
}
