/** Structured JSON logs (pino) behind the SDK's `Logger` interface, with secrets redacted. */
import type { Logger } from '@opendepot/sdk';
import { pino, type Logger as PinoLogger } from 'pino';
import { redact, redactString } from './redact.ts';

/** Log levels, most verbose first. `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines go: anything with `write(line)`. Default: standard output. */
export interface LogDestination {
  write(line: string): unknown;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** The component, e.g. `opendepot-server`; written as `name` on every line. */
  name?: string;
  /** Default: standard output. */
  destination?: LogDestination;
}

/** The host's logger: the SDK `Logger` plus level checks, so costly debug fields can be skipped. */
export interface HostLogger extends Logger {
  /** The configured level. */
  readonly level: LogLevel;
  /** Whether a line at `level` would be written. */
  isLevelEnabled(level: Exclude<LogLevel, 'silent'>): boolean;
  child(fields: Record<string, unknown>): HostLogger;
}

/**
 * Makes a logger that writes one JSON object per line:
 * `{"level":"info","time":"2026-…Z","name":"opendepot-server","msg":"listening","port":8080}`.
 * Fields that look secret (`token`, `password`, `authorization`, `privateKey`, `credentials`…)
 * are replaced by `[REDACTED]` at any depth, and credentials inside strings (URL user info,
 * bearer tokens, signed-URL signatures) are scrubbed, in messages as well as fields.
 */
export function createLogger(options: CreateLoggerOptions = {}): HostLogger {
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are already plain, redacted objects (see redact); pino's own err serializer would retype them.
      serializers: { err: (value: unknown) => value },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(base);
}

function wrap(inner: PinoLogger): HostLogger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void => {
    if (!inner.isLevelEnabled(level)) return;
    if (fields === undefined) inner[level](redactString(message));
    else inner[level](redact(fields) as Record<string, unknown>, redactString(message));
  };
  return {
    get level() {
      return inner.level as LogLevel;
    },
    isLevelEnabled: (level) => inner.isLevelEnabled(level),
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => wrap(inner.child(redact(fields) as Record<string, unknown>)),
  };
}
