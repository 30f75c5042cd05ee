/**
 * The answer for a Version that exists but is not served: 503 while the operator works on it, 409
 * when it needs a change. Its body says what the server knows in its own words plus the
 * condition's reason code; the condition's message (upstream errors, internal URLs, TLS details,
 * whether a port answered) goes to the server's log only, since anyone may ask.
 */
import { ConflictError, UnavailableError, type Logger } from '@opendepot/sdk';
import type { UnservableVersion } from '../catalog/types.ts';

/** How long clients are told to wait for a Version still being synced, in seconds. */
export const RETRY_SYNCING_SECONDS = 10;

/** The error to throw for `state`; `subject` names the version, `resource` is its `namespace/name`. */
export function notServableError(subject: string, resource: string, state: UnservableVersion, log: Logger): Error {
  log.info('version not served', { version: resource, state: state.kind, reason: state.reason, ...(state.message !== undefined && { detail: state.message }) });
  if (state.kind === 'syncing') {
    return new UnavailableError(`${subject} is not available yet: ${state.detail} (reason: ${state.reason})`, { retryAfterMs: RETRY_SYNCING_SECONDS * 1000 });
  }
  // Not transient: a 409, a 4xx other than 404, whose body tofu and terraform show after "resp:".
  return new ConflictError(`${subject} is not available: ${state.detail} (reason: ${state.reason})`);
}
