/** A plugin context as the host would pass it, with a logger the tests can read. */
import type { Logger, PluginContext } from '@opendepot/sdk';

/** A logger that remembers warnings and errors. */
export function recordingLogger(lines: string[] = []): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    error: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    child: () => logger,
  };
  return logger;
}

/** A plugin context as the host would pass it; `secrets` maps `name/key` to a value. */
export function pluginContext(options: { logger?: Logger; secrets?: Record<string, string> } = {}): PluginContext {
  const context: PluginContext = {
    logger: options.logger ?? recordingLogger(),
    signal: new AbortController().signal,
    clock: { now: () => Date.now() },
    configPath: 'spec.storageConfig.webdav',
  };
  const secrets = options.secrets;
  if (secrets !== undefined) {
    context.readSecret = async (name, key) => {
      const value = secrets[`${name}/${key}`];
      if (value === undefined) throw new Error(`secret ${name} has no key ${key}`);
      return value;
    };
  }
  return context;
}
