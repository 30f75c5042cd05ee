/**
 * The Trivy scanner: `trivy config` over an unpacked module, and vulnerability scans of provider
 * packages (`trivy rootfs`, reading Go build info) and source trees (`trivy fs`, reading
 * go.mod/go.sum), read into SDK findings.
 */
import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UnavailableError, type Logger, type ScanReport, type Scanner, type ScanTarget } from '@opendepot/sdk';
import type { TrivyScannerConfig } from './config.ts';
import { readDatabase, TrivyDatabaseMissingError } from './database.ts';
import { findingsOf } from './report.ts';

const DEFAULT_TIMEOUT_SECONDS = 300;
/** Reports of big modules run to megabytes; more than this is not a report we can use. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/**
 * Never reach out from the scanner: no update checks, no telemetry, no download of the checks
 * bundle (trivy then scans with the checks built into the binary).
 */
const OFFLINE_FLAGS = ['--skip-version-check', '--disable-telemetry', '--skip-check-update', '--quiet'];
/** Vulnerability scans look nothing up online (`--offline-scan`); the Java DB is never fetched. */
const VULN_FLAGS = ['--scanners', 'vuln', '--offline-scan', '--skip-java-db-update'];
/** The trivy command per target kind. */
const COMMANDS = { module: 'config', provider: 'rootfs', 'provider-source': 'fs' } as const;
/** What trivy says when --skip-db-update finds no database. */
const NO_DB_OUTPUT = /--skip-db-update cannot be specified on the first run|DB error|database error/i;

/**
 * Trivy 0.74 fetches the remote module sources a module references (git, registry, http) and has
 * no switch to stop it. Scanned code is untrusted, so its downloads go to a proxy on a closed
 * local port and fail at once (trivy then scans the local code only). Go and git never proxy
 * loopback addresses; restrict the operator's egress (NetworkPolicy) as well.
 */
const NO_EGRESS_PROXY = 'http://127.0.0.1:9';
const NO_EGRESS_ENV = Object.fromEntries(['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'].map((k) => [k, NO_EGRESS_PROXY]));

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs trivy with `args`; rejects with the exit code and stderr when it fails. */
function run(binary: string, args: string[], options: { timeoutMs: number; signal?: AbortSignal; maxBuffer?: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBuffer ?? 1024 * 1024,
        ...(options.signal && { signal: options.signal }),
        // Trivy reads TRIVY_* variables as flags: only ours count.
        env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRIVY_') && !/^no_proxy$/i.test(k))), ...options.env },
      },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr })),
    );
  });
}

/** The last lines of trivy's stderr, for an error message (it logs one line per event). */
function tail(stderr: string | undefined): string {
  const lines = (stderr ?? '').trim().split('\n').filter(Boolean);
  return lines.slice(-3).join(' | ').slice(0, 600);
}

export class TrivyScanner implements Scanner {
  /** Modules get a configuration scan; provider packages and source trees a vulnerability scan. */
  readonly targets = ['module', 'provider', 'provider-source'] as const;
  readonly #binary: string;
  readonly #timeoutMs: number;
  readonly #cacheDir: string;
  readonly #dbRepository: string | undefined;
  readonly #dbRepositoryCaFile: string | undefined;
  readonly #dbRepositoryInsecure: boolean;
  readonly #logger: Logger | undefined;
  readonly #slots: Slots;
  #version = '';

  constructor(config: TrivyScannerConfig = {}, options: { logger?: Logger } = {}) {
    this.#binary = config.binary ?? 'trivy';
    this.#timeoutMs = (config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    this.#cacheDir = config.cacheDir ?? join(tmpdir(), 'opendepot-trivy-cache');
    this.#dbRepository = config.dbRepository;
    this.#dbRepositoryCaFile = config.dbRepositoryCaFile;
    this.#dbRepositoryInsecure = config.dbRepositoryInsecure ?? false;
    this.#logger = options.logger;
    this.#slots = new Slots(config.maxConcurrentScans ?? 1);
  }

  /** `trivy <version>` once {@link init} has run. */
  get scanner(): string {
    return `trivy ${this.#version}`.trim();
  }

  /** Checks that the binary runs and learns its version; creates the cache directory. */
  async init(): Promise<this> {
    let out: Run;
    try {
      out = await run(this.#binary, ['--version'], { timeoutMs: 30_000 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const why = e.code === 'ENOENT' ? 'no such executable' : `${e.message.split('\n')[0]} ${tail(e.stderr)}`.trim();
      throw new InputError(`cannot run trivy ${JSON.stringify(this.#binary)}: ${why}`, {
        field: 'binary',
        cause: err,
        hint: 'Install trivy in the operator image (or on PATH), or set binary to its absolute path.',
      });
    }
    this.#version = /Version:\s*(\S+)/.exec(out.stdout)?.[1] ?? '';
    if (this.#version === '') throw new InputError(`${JSON.stringify(this.#binary)} --version did not print a trivy version: ${out.stdout.slice(0, 200)}`, { field: 'binary' });
    await this.#checkDbRepositoryTrust();
    await mkdir(this.#cacheDir, { recursive: true });
    return this;
  }

  /** The mirror's trust settings mean something only with a mirror, and the CA file must be readable. */
  async #checkDbRepositoryTrust(): Promise<void> {
    const field = this.#dbRepositoryCaFile !== undefined ? 'dbRepositoryCaFile' : this.#dbRepositoryInsecure ? 'dbRepositoryInsecure' : undefined;
    if (field === undefined) return;
    if (this.#dbRepository === undefined)
      throw new InputError(`${field} is set but dbRepository is not: there is no mirror to trust`, { field, hint: 'Set dbRepository to your OCI mirror of the trivy DB, or drop the setting.' });
    if (this.#dbRepositoryCaFile === undefined) return;
    try {
      await access(this.#dbRepositoryCaFile, constants.R_OK);
    } catch (err) {
      throw new InputError(`cannot read dbRepositoryCaFile ${this.#dbRepositoryCaFile}`, {
        field: 'dbRepositoryCaFile',
        cause: err,
        hint: "Mount the PEM file of the CA that signs the mirror's certificate at that path (e.g. from a ConfigMap).",
      });
    }
  }

  /** How trivy gets its database: only from the cache, or from the configured mirror. */
  #dbFlags(): string[] {
    if (this.#dbRepository === undefined) return ['--skip-db-update'];
    return ['--db-repository', this.#dbRepository, ...(this.#dbRepositoryCaFile === undefined ? [] : ['--cacert', this.#dbRepositoryCaFile]), ...(this.#dbRepositoryInsecure ? ['--insecure'] : [])];
  }

  async scan(target: ScanTarget, options: { signal?: AbortSignal } = {}): Promise<ScanReport> {
    if (!Object.hasOwn(COMMANDS, target.kind)) throw new InputError(`the trivy scanner cannot scan a ${String(target.kind)}`, { field: 'kind' });
    await this.#slots.acquire(options.signal);
    try {
      return target.kind === 'module' ? await this.#scanModule(target, options.signal) : await this.#scanVulnerabilities(target, options.signal);
    } finally {
      this.#slots.release();
    }
  }

  async #scanModule(target: ScanTarget, signal: AbortSignal | undefined): Promise<ScanReport> {
    const started = Date.now();
    const out = await this.#trivy(target, ['config', ...OFFLINE_FLAGS], { ...NO_EGRESS_ENV, GIT_TERMINAL_PROMPT: '0' }, signal);
    const findings = findingsOf(out.stdout);
    this.#logger?.info('trivy scanned a module', { module: target.name, version: target.version, findings: findings.length, ms: Date.now() - started });
    return { findings, scanner: this.scanner };
  }

  /**
   * A provider package (`rootfs`: Go build info of its executable) or source tree (`fs`: go.mod,
   * go.sum) against the vulnerability database. Without `dbRepository` the database must already
   * be in the cache and nothing is downloaded; with it, trivy may download it from that mirror.
   */
  async #scanVulnerabilities(target: ScanTarget, signal: AbortSignal | undefined): Promise<ScanReport> {
    const started = Date.now();
    if (this.#dbRepository === undefined && (await readDatabase(this.#cacheDir)) === undefined) {
      throw new TrivyDatabaseMissingError(this.#cacheDir, 'trivy.db or metadata.json is missing and no dbRepository is set to download it from');
    }
    // Only a database download may reach out, and only to the configured mirror.
    const env = this.#dbRepository === undefined ? NO_EGRESS_ENV : {};
    const out = await this.#trivy(target, [COMMANDS[target.kind], ...OFFLINE_FLAGS, ...VULN_FLAGS, ...this.#dbFlags()], env, signal);
    const database = await readDatabase(this.#cacheDir);
    if (database === undefined) throw new TrivyDatabaseMissingError(this.#cacheDir, 'trivy ran, but left no readable metadata.json', this.#mirror());
    const findings = findingsOf(out.stdout);
    this.#logger?.info('trivy scanned a provider', { provider: target.name, version: target.version, kind: target.kind, findings: findings.length, ms: Date.now() - started });
    return { findings, scanner: this.scanner, database };
  }

  /** The mirror a missing database was to come from, for the error. */
  #mirror(): { dbRepository?: string } {
    return this.#dbRepository === undefined ? {} : { dbRepository: this.#dbRepository };
  }

  /** Runs `trivy <args> --cache-dir … --format json <path>`; a failure becomes a retried error. */
  async #trivy(target: ScanTarget, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Promise<Run> {
    try {
      return await run(this.#binary, [...args, '--cache-dir', this.#cacheDir, '--format', 'json', target.path], {
        timeoutMs: this.#timeoutMs,
        maxBuffer: MAX_REPORT_BYTES,
        env,
        ...(signal && { signal }),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const e = err as NodeJS.ErrnoException & { killed?: boolean; stderr?: string };
      if (target.kind !== 'module' && NO_DB_OUTPUT.test(e.stderr ?? '')) throw new TrivyDatabaseMissingError(this.#cacheDir, tail(e.stderr), { cause: err, ...this.#mirror() });
      const why = e.killed ? `it ran longer than ${this.#timeoutMs / 1000} s` : `${e.message.split('\n')[0]} ${tail(e.stderr)}`.trim();
      // A scanner that fails is retried with backoff; nothing is stored meanwhile.
      throw new UnavailableError(`trivy could not scan ${target.name} ${target.version}: ${why}`, { cause: err, retryAfterMs: 60_000 });
    }
  }
}

/** At most `size` holders at once; the others wait in order (or until their signal aborts). */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        reject(signal!.reason);
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}
