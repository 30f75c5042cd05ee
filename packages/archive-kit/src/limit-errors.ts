/**
 * The errors that say which upstream limit was hit and which \`operator.limits\` key raises it
 * (issue 10 §2). Sources throw them; the operator reads their \`conditionReason\`.
 */
import { InputError, UnavailableError } from '@opendepot/sdk';

/** The condition reason of an error that carries one (the errors below), else undefined. */
export function limitReason(err: unknown): string | undefined {
  const reason = typeof err === 'object' && err !== null ? (err as { conditionReason?: unknown }).conditionReason : undefined;
  return typeof reason === 'string' ? reason : undefined;
}

/** An upstream artefact exceeds a limit: permanent (Stalled, LimitExceeded) until the artefact or the limit changes. */
export class LimitExceededError extends InputError {
  readonly conditionReason = 'LimitExceeded';
  /** The `operator.limits` key that raises the limit. */
  readonly configKey: string;

  constructor(message: string, configKey: string) {
    super(`${message} (limit operator.limits.${configKey})`, { hint: `raise operator.limits.${configKey} if this upstream is trusted` });
    this.name = 'LimitExceededError';
    this.configKey = configKey;
  }
}

/** An upstream body was too slow or idle: transient (retried with backoff), reported as UpstreamTooSlow. */
export class UpstreamTooSlowError extends UnavailableError {
  readonly conditionReason = 'UpstreamTooSlow';

  constructor(message: string) {
    super(message);
    this.name = 'UpstreamTooSlowError';
  }
}
