/** What the plugin tests share: temporary storage directories and a plugin context. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, PluginContext } from '@opendepot/sdk';

/** A logger that remembers warnings, so tests can assert on clean-up problems. */
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

/** A plugin context as the host would pass it. */
export function pluginContext(logger: Logger = recordingLogger()): PluginContext {
  return { logger, signal: new AbortController().signal, clock: { now: () => Date.now() }, configPath: 'storageConfig.filesystem' };
}

/** Temporary directories, removed by `removeAll`. */
export class TempDirs {
  readonly #dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'opendepot-plugin-fs-'));
    this.#dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
