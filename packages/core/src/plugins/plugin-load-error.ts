/** The one error `loadPlugins` rejects with: which plugin, where in the config, what, and the fix. */
import { OpenDepotError, type ErrorCode } from '@opendepot/sdk';

/** What went wrong with one configured plugin. */
export type PluginProblem =
  | 'invalid-entry' // the plugins: item itself is malformed
  | 'not-installed' // the package or path cannot be found
  | 'import-failed' // the module threw (or a dependency of it is missing) while importing
  | 'not-a-plugin' // the default export is not a definePlugin() result, or is malformed
  | 'wrong-api-version'
  | 'wrong-kind' // the entry's `kind` differs from the plugin's
  | 'duplicate' // two entries load the same kind and name
  | 'unexpected-config' // config given to a storage plugin
  | 'invalid-schema' // the plugin's configSchema does not compile
  | 'invalid-config'
  | 'create-failed' // create() threw, timed out, or returned something unusable
  | 'aborted'; // the host's signal aborted during loading

/** One failed plugin. */
export interface PluginFailure {
  /** The package name or path, as configured. */
  plugin: string;
  /** The entry's path, e.g. `plugins[2]`. */
  configPath: string;
  /** The offending field, e.g. `plugins[2].config.bucket`; the entry's path when no narrower one. */
  field: string;
  problem: PluginProblem;
  /** What went wrong, without the plugin and path (the error adds them). */
  message: string;
  /** What to do about it. */
  fix: string;
  cause?: unknown;
  /** Code of the error this failure stems from: `input` unless `create` failed with another code. */
  code?: ErrorCode;
}

/** A configured plugin could not be loaded, validated or created; start-up must stop. */
export class PluginLoadError extends OpenDepotError {
  /** Every failure, in `plugins:` order. Loading reports all problems it can find at once. */
  readonly failures: readonly PluginFailure[];
  /** The first failed plugin (package name or path). */
  readonly plugin: string;
  /** The first failed entry's path, e.g. `plugins[2]`. */
  readonly configPath: string;
  /** The first failure's problem. */
  readonly problem: PluginProblem;

  constructor(failures: readonly PluginFailure[]) {
    const first = failures[0];
    if (first === undefined) throw new TypeError('PluginLoadError needs at least one failure');
    super(first.code ?? 'input', formatFailures(failures), { field: first.field, cause: failures.length === 1 ? first.cause : undefined });
    this.name = 'PluginLoadError';
    this.failures = failures;
    this.plugin = first.plugin;
    this.configPath = first.configPath;
    this.problem = first.problem;
  }
}

function formatFailure(failure: PluginFailure): string {
  return `plugin ${JSON.stringify(failure.plugin)} (${failure.configPath}): ${failure.message}. Fix: ${failure.fix}`;
}

function formatFailures(failures: readonly PluginFailure[]): string {
  if (failures.length === 1) return `Cannot load ${formatFailure(failures[0]!)}`;
  return `Cannot load ${failures.length} configured plugins:\n${failures.map((f) => `- ${formatFailure(f)}`).join('\n')}`;
}
