/** Loads the host configuration: a YAML file, overridden by `OPENDEPOT_*` variables, validated. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { checkPluginEntry, type PluginEntry } from '../plugins/entry.ts';
import { ConfigError } from './config-error.ts';
import { readEnv } from './env.ts';
import { joinFieldPath } from './field-path.ts';
import { hostConfigSchema, WARN_UNKNOWN_KEYS_IN, type HostConfig } from './host-config.ts';
import { createSchemaValidator, type SchemaProblem } from './json-schema.ts';
import { storageSettingsProblems } from './storage-profiles.ts';

/** The variable naming the configuration file when `--config` is not given. */
export const CONFIG_FILE_ENV = 'OPENDEPOT_CONFIG';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Command-line arguments, searched for `--config <file>` / `--config=<file>`. Default `process.argv.slice(2)`. */
  argv?: readonly string[];
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where relative paths are resolved from. Default `process.cwd()`. */
  cwd?: string;
}

/** What {@link loadConfig} and {@link parseConfig} return. */
export interface LoadedConfig {
  config: HostConfig;
  /** Absolute path of the file read, if any. */
  file?: string;
  /** Directory that relative paths in the configuration (plugin `path`s) are resolved against. */
  baseDir: string;
  /** Things worth a log line that do not stop start-up (likely typos). */
  warnings: string[];
}

/**
 * Reads the file named by `--config` or `OPENDEPOT_CONFIG` (none is fine: defaults plus the
 * environment), applies the environment variables of {@link ENV_MAPPINGS}, fills defaults and
 * validates. Throws {@link ConfigError} naming the file or variable and the field.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = configFileFromArgs(options.argv ?? process.argv.slice(2)) ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (named === undefined) return parseConfig(undefined, { env, baseDir: cwd });
  const file = resolve(cwd, named);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new ConfigError(`configuration file ${file} ${reason}`, {
      source: file,
      cause: err,
      hint: `Check --config or ${CONFIG_FILE_ENV}, and that the file is mounted into the container.`,
    });
  }
  return parseConfig(text, { file, env, baseDir: dirname(file) });
}

/** The value of `--config`, if given. Throws when the flag has no value. */
export function configFileFromArgs(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--config=')) return requireValue(arg.slice('--config='.length));
    if (arg === '--config') return requireValue(argv[i + 1]);
  }
  return undefined;
}

function requireValue(value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('--')) {
    throw new ConfigError('--config needs a file name, e.g. --config /etc/opendepot/config.yaml');
  }
  return value;
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Named in error messages. */
  file?: string;
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default: the file's directory, else `process.cwd()`. */
  baseDir?: string;
}

/** {@link loadConfig} for configuration text already in hand (`undefined`: no file). */
export function parseConfig(text: string | undefined, options: ParseConfigOptions = {}): LoadedConfig {
  const origin = options.file ?? 'the configuration';
  const fromFile = text === undefined ? {} : parseYaml(text, origin, options.file);
  const overrides = readEnv(options.env ?? process.env);
  const merged = deepMerge(fromFile, overrides.values);

  const check = validator.compile(hostConfigSchema)<HostConfig>(merged, '');
  const problems = [...check.problems, ...renamedFieldProblems(merged)];
  if (problems.length === 0) {
    check.value.plugins.forEach((entry: PluginEntry, i) => problems.push(...checkPluginEntry(entry, `plugins[${i}]`)));
    problems.push(...storageSettingsProblems(check.value));
  }
  if (problems.length > 0) {
    const sourceOf = (p: SchemaProblem): string | undefined => envSource(p.path, overrides.sources);
    const lines = problems.map((p) => {
      const variable = sourceOf(p);
      return variable ? `${p.path} (from ${variable}): ${p.message}` : `${p.path || '(top level)'}: ${p.message}`;
    });
    const first = problems[0]!;
    throw new ConfigError(`invalid configuration in ${origin}${overrides.sources.size > 0 ? ' and the environment' : ''}: ${lines.join('; ')}`, {
      field: first.path,
      source: sourceOf(first) ?? options.file,
      hint: 'Fix the fields named above in the values file (or the environment variable named).',
    });
  }
  return {
    config: check.value,
    ...(options.file === undefined ? {} : { file: options.file }),
    baseDir: options.baseDir ?? (options.file === undefined ? process.cwd() : dirname(options.file)),
    warnings: [...overrides.ignored, ...unknownKeyWarnings(check.value, origin)],
  };
}

const validator = createSchemaValidator();

/** Fields that were renamed: refused with the new name rather than ignored as unknown. */
const RENAMED_FIELDS: readonly { section: string; from: string; to: string }[] = [{ section: 'server', from: 'publicUrl', to: 'externalUrl' }];

function renamedFieldProblems(merged: Record<string, unknown>): SchemaProblem[] {
  return RENAMED_FIELDS.filter(({ section, from }) => isPlainObject(merged[section]) && (merged[section] as Record<string, unknown>)[from] !== undefined).map(({ section, from, to }) => ({
    path: `${section}.${from}`,
    message: `was renamed ${section}.${to}; set that instead`,
  }));
}

function parseYaml(text: string, origin: string, file: string | undefined): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    const reason = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${origin} is not valid YAML${where}: ${reason}`, { source: file, cause: first });
  }
  if (doc.contents === null) return {}; // an empty file: all defaults
  if (!isMap(doc.contents)) {
    throw new ConfigError(`${origin} must be a YAML mapping (key: value lines) at the top level`, { source: file });
  }
  return doc.toJS() as Record<string, unknown>;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) && key !== 'defaultStorageConfig' && key !== 'profiles' ? deepMerge(existing, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function envSource(path: string, sources: Map<string, string>): string | undefined {
  for (const [field, variable] of sources) {
    if (path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`)) return variable;
  }
  return undefined;
}

function unknownKeyWarnings(config: HostConfig, origin: string): string[] {
  const warnings: string[] = [];
  for (const section of WARN_UNKNOWN_KEYS_IN) {
    let node: unknown = config;
    let schema: { properties?: Record<string, unknown> } | undefined = hostConfigSchema;
    for (const key of section) {
      node = isPlainObject(node) ? node[key] : undefined;
      schema = schema?.properties?.[key] as typeof schema;
    }
    if (!isPlainObject(node) || !schema?.properties) continue;
    const known = Object.keys(schema.properties);
    for (const key of Object.keys(node)) {
      if (!known.includes(key)) {
        const path = joinFieldPath(section.join('.'), key);
        warnings.push(`${origin}: ${path} is not a known field and is ignored (known in ${section.join('.')}: ${known.join(', ')})`);
      }
    }
  }
  return warnings;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
