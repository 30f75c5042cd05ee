/**
 * The plugin loader. It fails closed: any configured plugin that is missing, throws on import,
 * is not a plugin, has another API version, gets bad config or fails in `create` makes
 * {@link loadPlugins} reject with one {@link PluginLoadError} naming the plugin, its config path,
 * what went wrong and the fix. Nothing is skipped silently.
 */
import { pathToFileURL } from 'node:url';
import { isOpenDepotError, type Clock, type Logger, type Plugin, type PluginContext } from '@opendepot/sdk';
import { joinFieldPath } from '../config/field-path.ts';
import { createSchemaValidator, describeProblems, type CompiledSchema } from '../config/json-schema.ts';
import { redactString } from '../logging/redact.ts';
import { checkDefinition, checkInstance, defaultExportOf } from './check-plugin.ts';
import { checkPluginEntry, pluginEntrySchema, type PluginEntry } from './entry.ts';
import { PluginLoadError, type PluginFailure } from './plugin-load-error.ts';
import { closeAll, createPluginRegistry, type LoadedPlugin, type PluginRegistry } from './registry.ts';
import { ModuleNotFound, resolvePluginModule, type ResolvedPluginModule } from './resolve-module.ts';

/** Options of {@link loadPlugins}. */
export interface LoadPluginsOptions {
  /** Parent of each plugin's logger (a child with `plugin` and `pluginKind`). */
  logger: Logger;
  /** The host's shutdown signal, handed to every plugin. Default: never aborts. */
  signal?: AbortSignal;
  /** Default: the system clock. */
  clock?: Clock;
  /** Handed to plugins as `context.readSecret`. */
  readSecret?(name: string, key: string): Promise<string>;
  /** npm prefix directory plugins are installed into; searched first. */
  pluginsDir?: string;
  /** Searched for packages after `pluginsDir`, and the base of relative `path`s. Default `process.cwd()`. */
  baseDir?: string;
  /**
   * The host package's own directory (the operator's or the server's), searched last: the
   * first-party plugins are its dependencies and ship with it, so they need no `pluginsDir`.
   */
  hostDir?: string;
  /** Path of the list in the configuration, for messages. Default `plugins`. */
  configPath?: string;
  /** How long one `create` may take. Default 60 s. */
  createTimeoutMs?: number;
  /**
   * Plugin kinds this host does not use (the operator: `auth`). An entry that declares such a
   * `kind` is not even resolved; one that turns out to be of such a kind is checked but not created.
   */
  skipKinds?: readonly string[];
  /**
   * Plugins the host offers by default (the operator: the first-party archive sources, configured
   * from its own keys), loaded after the configured entries. A default is left out when a
   * configured entry names the same package (enabled or not: listing it takes over its config),
   * or loads a plugin of the same kind and name (a replacement).
   */
  defaults?: readonly PluginEntry[];
  /** Path of the defaults in messages, e.g. `operator (first-party archive sources)`. Default `default plugins`. */
  defaultsPath?: string;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

const DEFAULT_CREATE_TIMEOUT_MS = 60_000;

interface Prepared {
  entry: PluginEntry;
  label: string;
  configPath: string;
  module: ResolvedPluginModule;
  definition: Plugin;
  config: unknown;
}

/**
 * Loads every enabled entry of `plugins:`: resolves and imports it, checks the brand and API
 * version, validates `config` against the plugin's `configSchema` (storage plugins: the schema
 * only, their config comes from each `storageConfig`), calls `create` in list order, and
 * returns the registry of definitions and instances (its `close` closes the instances).
 *
 * Problems found before any `create` are reported all together; a failing `create` closes the
 * instances made so far. Either way: one {@link PluginLoadError}.
 */
export async function loadPlugins(entries: readonly PluginEntry[] | undefined, options: LoadPluginsOptions): Promise<PluginRegistry> {
  const listPath = options.configPath ?? 'plugins';
  const baseDir = options.baseDir ?? process.cwd();
  const searchDirs = [options.pluginsDir, baseDir, options.hostDir].filter((d): d is string => d !== undefined);
  const validator = createSchemaValidator();
  const checkEntry = validator.compile(pluginEntrySchema);
  const failures: PluginFailure[] = [];
  const prepared: Prepared[] = [];
  const seen = new Map<string, string>();
  const configured = (entries ?? []).map((entry, i) => ({ entry, configPath: `${listPath}[${i}]`, isDefault: false }));
  const listedPackages = new Set(configured.map(({ entry }) => (typeof entry === 'object' && entry !== null ? entry.package : undefined)));
  const defaults = (options.defaults ?? [])
    .map((entry, i) => ({ entry, configPath: `${options.defaultsPath ?? 'default plugins'}[${i}]`, isDefault: true }))
    .filter(({ entry }) => entry.package === undefined || !listedPackages.has(entry.package));

  for (const { entry, configPath, isDefault } of [...configured, ...defaults]) {
    const label = labelOf(entry, configPath);
    const fail = (failure: Omit<PluginFailure, 'plugin' | 'configPath' | 'field'> & { field?: string }): void => {
      failures.push({ plugin: label, configPath, field: configPath, ...failure });
    };

    const entryProblems = checkEntry(entry, configPath).problems;
    if (entryProblems.length === 0) entryProblems.push(...checkPluginEntry(entry, configPath));
    if (entryProblems.length > 0) {
      fail({ problem: 'invalid-entry', field: entryProblems[0]!.path, message: `the entry is invalid: ${describeProblems(entryProblems)}`, fix: `correct ${configPath} in the values file` });
      continue;
    }
    if (entry.enabled === false) continue;
    if (entry.kind !== undefined && options.skipKinds?.includes(entry.kind)) continue;

    let module: ResolvedPluginModule;
    try {
      module = resolvePluginModule(entry, { searchDirs, baseDir });
    } catch (err) {
      if (!(err instanceof ModuleNotFound)) throw err;
      fail({ problem: 'not-installed', field: joinFieldPath(configPath, entry.path === undefined ? 'package' : 'path'), message: err.message, fix: err.fix, cause: err });
      continue;
    }

    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(module.file).href)) as Record<string, unknown>;
    } catch (err) {
      fail({ problem: 'import-failed', message: `importing ${module.file} failed: ${errorText(err)}`, fix: importFix(err, label), cause: err });
      continue;
    }

    const value = defaultExportOf(exports);
    const definitionProblem = checkDefinition(exports, value, label);
    if (definitionProblem !== undefined) {
      fail({ ...definitionProblem });
      continue;
    }
    const definition = value as Plugin;

    if (entry.kind !== undefined && entry.kind !== definition.kind) {
      fail({
        problem: 'wrong-kind',
        field: joinFieldPath(configPath, 'kind'),
        message: `it is a ${definition.kind} plugin, but the entry says kind: ${entry.kind}`,
        fix: `correct ${configPath}.kind, or name the ${entry.kind} plugin you meant`,
      });
      continue;
    }
    const id = `${definition.kind}/${definition.name}`;
    const earlier = seen.get(id);
    if (earlier !== undefined && isDefault) {
      options.logger.debug('a configured plugin replaces a default one', { kind: definition.kind, name: definition.name, configuredAt: earlier });
      continue;
    }
    if (earlier !== undefined) {
      fail({ problem: 'duplicate', message: `${earlier} already loads the ${definition.kind} plugin "${definition.name}"`, fix: `remove one of ${earlier} and ${configPath}` });
      continue;
    }
    seen.set(id, configPath);

    let compiled: CompiledSchema;
    try {
      compiled = validator.compile(definition.configSchema);
    } catch (err) {
      fail({
        problem: 'invalid-schema',
        message: `its configSchema is not a valid JSON Schema: ${errorText(err)}`,
        fix: `report it to the authors of ${label}; it cannot be used until it is fixed`,
        cause: err,
      });
      continue;
    }

    const configField = joinFieldPath(configPath, 'config');
    if (definition.kind === 'storage') {
      if (entry.config !== undefined) {
        fail({
          problem: 'unexpected-config',
          field: configField,
          message: `storage plugins take their config from each resource's storageConfig.${definition.name} (or defaultStorageConfig.${definition.name}), not from ${configField}`,
          fix: `remove ${configField}; to give resources without storageConfig this backend, set defaultStorageConfig: { ${definition.name}: {...} }`,
        });
        continue;
      }
      prepared.push({ entry, label, configPath, module, definition, config: undefined });
      continue;
    }

    const check = compiled(entry.config ?? {}, configField);
    if (check.problems.length > 0) {
      fail({
        problem: 'invalid-config',
        field: check.problems[0]!.path,
        message: `its config is invalid: ${describeProblems(check.problems)}`,
        fix: `correct ${configField} in the values file (see the documentation of ${label} for its fields)`,
      });
      continue;
    }
    if (options.skipKinds?.includes(definition.kind)) continue;
    prepared.push({ entry, label, configPath, module, definition, config: check.value });
  }

  if (failures.length > 0) throw new PluginLoadError(failures);
  return createAll(prepared, options);
}

async function createAll(prepared: readonly Prepared[], options: LoadPluginsOptions): Promise<PluginRegistry> {
  const signal = options.signal ?? new AbortController().signal;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.createTimeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS;
  const loaded: LoadedPlugin[] = [];

  for (const item of prepared) {
    const { definition, module, configPath, label } = item;
    const base: LoadedPlugin = {
      kind: definition.kind,
      name: definition.name,
      apiVersion: definition.apiVersion,
      source: item.entry.package ?? item.entry.path!,
      ...(module.packageName === undefined ? {} : { packageName: module.packageName }),
      ...(module.version === undefined ? {} : { version: module.version }),
      configPath,
      definition,
    };
    if (definition.kind !== 'storage') {
      const configField = joinFieldPath(configPath, 'config');
      const context: PluginContext = {
        logger: options.logger.child({ plugin: definition.name, pluginKind: definition.kind }),
        signal,
        clock,
        configPath: configField,
        ...(options.readSecret === undefined ? {} : { readSecret: options.readSecret }),
      };
      try {
        if (signal.aborted) throw new Error('the host is shutting down');
        const instance = await createWithTimeout(definition, item.config, context, timeoutMs);
        const bad = checkInstance(definition, instance);
        if (bad !== undefined) {
          await closeAll([{ name: label, instance }], options.logger);
          throw new BadInstance(bad);
        }
        base.instance = instance as never;
      } catch (err) {
        await closeAll(
          loaded
            .filter((p) => p.instance !== undefined)
            .reverse()
            .map((p) => ({ name: p.source, instance: p.instance })),
          options.logger,
        );
        throw new PluginLoadError([createFailure(err, item, configField, signal)]);
      }
    }
    loaded.push(base);
    options.logger.info('plugin loaded', {
      kind: base.kind,
      name: base.name,
      package: base.packageName ?? base.source,
      version: base.version,
      apiVersion: base.apiVersion,
      configPath,
    });
  }

  return createPluginRegistry(loaded, options.logger);
}

class BadInstance extends Error {}

class CreateTimeout extends Error {}

async function createWithTimeout(definition: Plugin, config: unknown, context: PluginContext, timeoutMs: number): Promise<unknown> {
  const pending = Promise.resolve().then(() => definition.create(config, context));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CreateTimeout(`create() did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (err) {
    // An instance that arrives after the deadline would leak its connections: close it.
    if (err instanceof CreateTimeout)
      void pending.then(
        (late) => closeAll([{ name: definition.name, instance: late }]),
        () => {},
      );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function createFailure(err: unknown, item: Prepared, configField: string, signal: AbortSignal): PluginFailure {
  const common = { plugin: item.label, configPath: item.configPath, cause: err };
  if (err instanceof BadInstance) {
    return { ...common, field: item.configPath, problem: 'create-failed', message: err.message, fix: `report it to the authors of ${item.label}; it cannot be used until it is fixed` };
  }
  if (signal.aborted) {
    return { ...common, field: item.configPath, problem: 'aborted', message: 'loading was aborted because the host is shutting down', fix: 'none needed if the shutdown was intended' };
  }
  const field = isOpenDepotError(err) && err.field ? joinFieldPath(configField, err.field) : configField;
  const hint = isOpenDepotError(err) ? err.hint : undefined;
  return {
    ...common,
    field,
    problem: 'create-failed',
    message: `create() failed: ${errorText(err)}`,
    fix:
      hint ??
      (err instanceof CreateTimeout
        ? `check that what ${item.label} connects to at start-up is reachable, and ${configField}`
        : `check ${configField} and what the plugin needs at start-up (credentials, network access)`),
    ...(isOpenDepotError(err) ? { code: err.code } : {}),
  };
}

function labelOf(entry: unknown, configPath: string): string {
  const record = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  if (typeof record.package === 'string') return record.package;
  if (typeof record.path === 'string') return record.path;
  return configPath;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redactString(text.split('\n')[0] ?? text);
}

function importFix(err: unknown, label: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') return `a module that ${label} imports is missing: reinstall ${label} together with its dependencies`;
  if (err instanceof SyntaxError) return `${label} does not run on this Node.js ${process.version}: use a release built for it`;
  return `${label} throws while it is imported: fix or upgrade it (run it alone with node to see the stack trace)`;
}
