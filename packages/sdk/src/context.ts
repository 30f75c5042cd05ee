/** What the host gives every plugin instance. */

/** Structured logger. Never pass secrets in `fields`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/** A clock, so tests can control time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The context passed to a plugin's `create`. */
export interface PluginContext {
  /** A logger already scoped to the plugin. */
  logger: Logger;
  /** Aborted when the host shuts down: stop background work and close connections. */
  signal: AbortSignal;
  /** The host's clock. */
  clock: Clock;
  /** Where the plugin's config came from, e.g. `plugins[2].config`, for error messages. */
  configPath: string;
  /**
   * Reads a key of a Kubernetes Secret in the host's namespace, for credentials referenced by
   * config (e.g. `{ secretRef: { name, key } }`). Absent where the host has no Secret access.
   */
  readSecret?(name: string, key: string): Promise<string>;
}
