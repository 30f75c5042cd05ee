/** A real core logger writing JSON lines into an array, for asserting what gets logged. */
import { createLogger, type HostLogger, type LogLevel } from '../../src/logging/logger.ts';

export interface CapturedLogger {
  logger: HostLogger;
  /** Every line written so far, parsed. */
  lines: () => Array<Record<string, unknown>>;
  /** Every line as written (to search for leaked secrets). */
  raw: () => string;
}

export function captureLogger(level: LogLevel = 'debug'): CapturedLogger {
  const written: string[] = [];
  const logger = createLogger({ level, name: 'test', destination: { write: (line: string) => written.push(line) } });
  return {
    logger,
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: () => written.join(''),
  };
}
