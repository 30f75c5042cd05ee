/** Bridges the host's logger (message first) to the Kubernetes layer's (fields first). */
import type { Logger } from '@opendepot/sdk';
import type { KubeLogger } from './types.ts';

/** The Kubernetes layer's view of a host logger. */
export function kubeLoggerOf(logger: Logger): KubeLogger {
  const fields = (f: object) => f as Record<string, unknown>;
  return {
    debug: (f, message) => logger.debug(message, fields(f)),
    info: (f, message) => logger.info(message, fields(f)),
    warn: (f, message) => logger.warn(message, fields(f)),
    error: (f, message) => logger.error(message, fields(f)),
  };
}
