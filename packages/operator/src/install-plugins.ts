/**
 * Installs third-party plugins into an npm prefix directory (the hosts' `pluginsDir`), each
 * pinned by version and SHA-512 integrity. The Helm chart runs it as an init container with the
 * OpenDepot image:
 *
 *   node /app/packages/operator/dist/install-plugins.js --prefix DIR --registry URL <name>@<version>=<integrity> ...
 *
 * Every tarball is fetched (`npm pack`) and checked against its pinned integrity before anything
 * is installed: one mismatch refuses them all, naming the package and both integrities (exit 1).
 * Then one `npm install --prefix DIR` of the checked tarballs brings their dependencies and
 * peers (the @opendepot/sdk) from the same registry, with no lifecycle scripts. npm's cache goes
 * to the temporary directory, so a read-only root file system is fine.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const USAGE = `Usage: node install-plugins.js --prefix DIR --registry URL <name>@<version>=<integrity> ...

Installs OpenDepot plugins from an npm registry into the npm prefix directory DIR (the hosts'
pluginsDir). Each package is pinned by exact version and by the SHA-512 integrity of its tarball
(the registry's dist.integrity, e.g. from \`npm view <name>@<version> dist.integrity\`); a tarball
with another integrity is refused and nothing is installed. Dependencies and peer dependencies
come from the same registry; no install scripts are run.

Options:
  --prefix DIR     npm prefix directory to install into (packages land in DIR/node_modules)
  --registry URL   npm registry to fetch from, e.g. https://registry.npmjs.org/
  -h, --help       print this help and exit

Example:
  node install-plugins.js --prefix /opt/opendepot/plugins --registry https://registry.npmjs.org/ \\
    @example/opendepot-plugin-webdav@1.2.0=sha512-...
`;

/** One package to install. */
export interface PinnedPackage {
  name: string;
  version: string;
  /** `sha512-<base64>`, the SRI integrity of the package's tarball. */
  integrity: string;
}

/** What the command line asks for. */
export interface InstallRequest {
  prefix: string;
  registry: string;
  packages: PinnedPackage[];
}

/** A problem with the command line: printed with the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A package whose tarball is not the one pinned. */
export class IntegrityMismatch extends Error {
  readonly package: string;
  readonly expected: string;
  readonly actual: string;
  constructor(pkg: string, expected: string, actual: string) {
    super(`refusing ${pkg}: its tarball's integrity is ${actual}, but ${expected} is pinned (nothing was installed)`);
    this.name = 'IntegrityMismatch';
    this.package = pkg;
    this.expected = expected;
    this.actual = actual;
  }
}

const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const SHA512_SRI = /^sha512-[A-Za-z0-9+/]{86}==$/;

/** Parses one `<name>@<version>=<integrity>` argument. Throws {@link UsageError}. */
export function parsePinned(arg: string): PinnedPackage {
  const eq = arg.indexOf('=');
  const spec = eq < 0 ? arg : arg.slice(0, eq);
  const integrity = eq < 0 ? '' : arg.slice(eq + 1);
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : '';
  if (!NAME.test(name) || version === '' || integrity === '') {
    throw new UsageError(`${JSON.stringify(arg)} is not <name>@<version>=<integrity>`);
  }
  if (!EXACT_VERSION.test(version)) {
    throw new UsageError(`${name}: version ${JSON.stringify(version)} is not an exact version (pin one, e.g. 1.2.0)`);
  }
  if (!SHA512_SRI.test(integrity)) {
    throw new UsageError(`${name}@${version}: integrity ${JSON.stringify(integrity)} is not a SHA-512 SRI hash (sha512-<base64>)`);
  }
  return { name, version, integrity };
}

/** Parses the command line; `undefined` means print the usage (`--help`). Throws {@link UsageError}. */
export function parseArgs(argv: readonly string[]): InstallRequest | undefined {
  let prefix: string | undefined;
  let registry: string | undefined;
  const packages: PinnedPackage[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (flag: string): string => {
      const inline = arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : undefined;
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (arg === '-h' || arg === '--help') return undefined;
    else if (arg === '--prefix' || arg.startsWith('--prefix=')) prefix = value('--prefix');
    else if (arg === '--registry' || arg.startsWith('--registry=')) registry = value('--registry');
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else packages.push(parsePinned(arg));
  }
  if (prefix === undefined) throw new UsageError('--prefix DIR is required');
  if (registry === undefined) throw new UsageError('--registry URL is required');
  try {
    const url = new URL(registry);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
  } catch {
    throw new UsageError(`--registry ${JSON.stringify(registry)} is not an http(s) URL`);
  }
  const seen = new Set<string>();
  for (const p of packages) {
    if (seen.has(p.name)) throw new UsageError(`${p.name} is named twice`);
    seen.add(p.name);
  }
  return { prefix: resolve(prefix), registry, packages };
}

/** The SRI integrity (`sha512-<base64>`) of some bytes. */
export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new Error(`${command} is not on PATH (the OpenDepot image has it at /usr/local/bin/npm)`) : err));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** npm's environment: its cache (and logs) in the temporary directory unless configured. */
function npmEnv(tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const has = (key: string) => Object.keys(env).some((k) => k.toLowerCase() === `npm_config_${key}`);
  if (!has('cache')) env.npm_config_cache = join(tmp, 'npm-cache');
  if (!has('update_notifier')) env.npm_config_update_notifier = 'false';
  return env;
}

function lastLines(text: string, n = 15): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/**
 * Fetches, checks and installs `request.packages`. Throws {@link IntegrityMismatch} (before
 * installing anything) or an Error naming the failing npm step. `log` gets progress lines.
 */
export async function installPlugins(request: InstallRequest, log: (line: string) => void = () => {}): Promise<void> {
  if (request.packages.length === 0) {
    log('no plugins to install');
    return;
  }
  const npm = process.env.OPENDEPOT_NPM ?? 'npm';
  const tmp = await mkdtemp(join(tmpdir(), 'opendepot-plugins-'));
  try {
    const env = npmEnv(tmp);
    const tarballs: string[] = [];
    for (const p of request.packages) {
      const id = `${p.name}@${p.version}`;
      log(`fetching ${id} from ${request.registry}`);
      const packed = await run(npm, ['pack', id, '--registry', request.registry, '--json', '--pack-destination', tmp, '--ignore-scripts'], { cwd: tmp, env });
      if (packed.code !== 0) throw new Error(`fetching ${id} from ${request.registry} failed (npm pack exit ${packed.code}):\n${lastLines(packed.stderr)}`);
      let filename: string;
      try {
        filename = (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename;
      } catch {
        throw new Error(`fetching ${id}: npm pack printed no JSON result:\n${lastLines(packed.stdout)}`);
      }
      // npm pack names scoped tarballs scope-name-version.tgz; --json may give the scope as "@scope/".
      const file = join(tmp, filename.replace(/^@/, '').replace(/\//g, '-'));
      const actual = sha512Integrity(await readFile(file));
      if (actual !== p.integrity) throw new IntegrityMismatch(id, p.integrity, actual);
      log(`${id}: integrity ${actual} matches`);
      tarballs.push(file);
    }
    log(`installing ${request.packages.map((p) => `${p.name}@${p.version}`).join(', ')} into ${request.prefix}`);
    const installed = await run(npm, ['install', '--prefix', request.prefix, '--registry', request.registry, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', ...tarballs], {
      cwd: tmp,
      env,
    });
    if (installed.code !== 0) throw new Error(`npm install into ${request.prefix} failed (exit ${installed.code}):\n${lastLines(installed.stderr)}`);
    for (const p of request.packages) {
      const manifest = join(request.prefix, 'node_modules', p.name, 'package.json');
      const version = (JSON.parse(await readFile(manifest, 'utf8').catch(() => '{}')) as { version?: string }).version;
      if (version !== p.version) throw new Error(`after npm install, ${manifest} has version ${version ?? '(missing)'}, not ${p.version}`);
      log(`installed ${p.name}@${p.version}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let request: InstallRequest | undefined;
  try {
    request = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`install-plugins: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (request === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    await installPlugins(request, (line) => process.stdout.write(`install-plugins: ${line}\n`));
    return 0;
  } catch (err) {
    process.stderr.write(`install-plugins: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// Run as a program (not when imported by the tests).
if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
