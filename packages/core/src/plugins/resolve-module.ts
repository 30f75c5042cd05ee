/**
 * Finds the module file of a configured plugin: a package by name (Node's resolution, from the
 * plugins directory, then the base directory), or a local directory or file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { PluginEntry } from './entry.ts';

/** Where a plugin module was found. */
export interface ResolvedPluginModule {
  /** Absolute path of the module file to import. */
  file: string;
  /** `name` of the plugin's package.json, when it has one. */
  packageName?: string;
  /** `version` of the plugin's package.json, when it has one. */
  version?: string;
}

/** Why a plugin module could not be found. */
export class ModuleNotFound extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'ModuleNotFound';
    this.fix = fix;
  }
}

/** Options of {@link resolvePluginModule}. */
export interface ResolveOptions {
  /** Directories to resolve package names from, in order (each is searched like Node does: `<dir>/node_modules`, then parents). */
  searchDirs: readonly string[];
  /** What relative `path`s are relative to. */
  baseDir: string;
}

/** Resolves an entry (which has exactly one of `package` and `path`). Throws {@link ModuleNotFound}. */
export function resolvePluginModule(entry: PluginEntry, options: ResolveOptions): ResolvedPluginModule {
  if (entry.path !== undefined) return resolvePath(resolve(options.baseDir, entry.path), entry.path);
  const name = entry.package!;
  for (const dir of options.searchDirs) {
    const file = resolveFrom(dir, name);
    if (file !== undefined) return { file, ...describePackage(file, packageNameOf(name)) };
  }
  throw new ModuleNotFound(
    `package ${name} is not installed (searched from ${options.searchDirs.join(', ')})`,
    `install it into the image or the plugins directory (npm install --prefix <pluginsDir> ${name}@<version>), or correct the package name`,
  );
}

function resolveFrom(dir: string, name: string): string | undefined {
  const require = createRequire(join(dir, '__opendepot_plugin_loader__.js'));
  try {
    return require.resolve(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      // require.resolve uses the `require` condition; an import-only package still loads with import().
      const packageDir = findPackageDir(dir, name);
      const file = packageDir === undefined ? undefined : packageEntry(packageDir);
      if (file !== undefined) return file;
    }
    if (code === 'MODULE_NOT_FOUND' && !(err as Error).message.includes(`'${name}'`)) {
      // The package is there but its entry file is not: a broken install, not a missing package.
      throw new ModuleNotFound(`package ${name} is installed but broken: ${(err as Error).message.split('\n')[0]}`, `reinstall ${name}`);
    }
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
    throw err;
  }
}

function resolvePath(absolute: string, configured: string): ResolvedPluginModule {
  if (!existsSync(absolute)) {
    throw new ModuleNotFound(`path ${configured} does not exist (resolved to ${absolute})`, "correct path: it is relative to the configuration file's directory");
  }
  if (!statSync(absolute).isDirectory()) return { file: absolute, ...describePackage(absolute) };
  const file = packageEntry(absolute) ?? firstExisting(absolute, ['index.js', 'index.mjs', 'index.ts']);
  if (file === undefined) {
    throw new ModuleNotFound(
      `directory ${configured} has no entry module (no exports or main in a package.json, and no index.js)`,
      "point path at the plugin's module file, or give the directory a package.json with exports or main",
    );
  }
  return { file, ...describePackage(file) };
}

/** The `.` entry of a package directory, by `exports` (import conditions) or `main`. */
function packageEntry(packageDir: string): string | undefined {
  const manifest = readManifest(join(packageDir, 'package.json'));
  if (manifest === undefined) return undefined;
  const target = manifest.exports === undefined ? manifest.main : pickExport(rootExport(manifest.exports), importConditions());
  if (typeof target !== 'string') return undefined;
  const file = resolve(packageDir, target);
  return existsSync(file) ? file : undefined;
}

function rootExport(exports: unknown): unknown {
  if (typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'))) {
    return (exports as Record<string, unknown>)['.'];
  }
  return exports;
}

function pickExport(target: unknown, conditions: readonly string[]): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickExport(item, conditions);
      if (picked !== undefined) return picked;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  // Like Node: the first key, in object order, that is an active condition.
  for (const [condition, value] of Object.entries(target)) {
    if (condition === 'default' || conditions.includes(condition)) {
      const picked = pickExport(value, conditions);
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}

/** `import` and `node`, plus any `--conditions` the process was started with. */
function importConditions(): string[] {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const user: string[] = [];
  flags.forEach((flag, i) => {
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(flag);
    if (inline) user.push(inline[1]!);
    else if ((flag === '--conditions' || flag === '-C') && flags[i + 1]) user.push(flags[i + 1]!);
  });
  return [...user, 'import', 'node'];
}

function findPackageDir(from: string, name: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  exports?: unknown;
}

function readManifest(file: string): Manifest | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Name and version from the nearest package.json above `file` (the one named `name`, if given). */
function describePackage(file: string, name?: string): { packageName?: string; version?: string } {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = existsSync(join(dir, 'package.json')) ? readManifest(join(dir, 'package.json')) : undefined;
    if (manifest !== undefined && (name === undefined || manifest.name === name)) {
      return {
        ...(typeof manifest.name === 'string' ? { packageName: manifest.name } : {}),
        ...(typeof manifest.version === 'string' ? { version: manifest.version } : {}),
      };
    }
    if (dirname(dir) === dir) return {};
  }
}

/** The package of a specifier that may name a subpath: `@scope/name/sub` → `@scope/name`. */
function packageNameOf(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((f) => existsSync(f));
}
