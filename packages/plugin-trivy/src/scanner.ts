/** The Trivy scanner: `trivy config` over an unpacked module, read into SDK findings. */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UnavailableError, type Logger, type ScanReport, type Scanner, type ScanTarget } from '@opendepot/sdk';
import type { TrivyScannerConfig } from './config.ts';
import { findingsOf } from './report.ts';

const DEFAULT_TIMEOUT_SECONDS = 300;
/** Reports of big modules run to megabytes; more than this is not a report we can use. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/**
 * Never reach out from the scanner: no update checks, no telemetry, no download of the checks
 * bundle (trivy then scans with the checks built into the binary).
 */
const OFFLINE_FLAGS = ['--skip-version-check', '--disable-telemetry', '--skip-check-update', '--quiet'];

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
  /** Trivy's configuration scan covers modules; provider binaries are not scanned (yet). */
  readonly targets = ['module'] as const;
  readonly #binary: string;
  readonly #timeoutMs: number;
  readonly #cacheDir: string;
  readonly #logger: Logger | undefined;
  readonly #slots: Slots;
  #version = '';

  constructor(config: TrivyScannerConfig = {}, options: { logger?: Logger } = {}) {
    this.#binary = config.binary ?? 'trivy';
    this.#timeoutMs = (config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    this.#cacheDir = config.cacheDir ?? join(tmpdir(), 'opendepot-trivy-cache');
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
    await mkdir(this.#cacheDir, { recursive: true });
    return this;
  }

  async scan(target: ScanTarget, options: { signal?: AbortSignal } = {}): Promise<ScanReport> {
    if (target.kind !== 'module') throw new InputError(`the trivy scanner scans modules, not ${target.kind}s`, { field: 'kind' });
    await this.#slots.acquire(options.signal);
    try {
      return await this.#scanModule(target, options.signal);
    } finally {
      this.#slots.release();
    }
  }

  async #scanModule(target: ScanTarget, signal: AbortSignal | undefined): Promise<ScanReport> {
    const started = Date.now();
    let out: Run;
    try {
      out = await run(this.#binary, ['config', ...OFFLINE_FLAGS, '--cache-dir', this.#cacheDir, '--format', 'json', target.path], {
        timeoutMs: this.#timeoutMs,
        maxBuffer: MAX_REPORT_BYTES,
        env: { ...NO_EGRESS_ENV, GIT_TERMINAL_PROMPT: '0' },
        ...(signal && { signal }),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const e = err as NodeJS.ErrnoException & { killed?: boolean; stderr?: string };
      const why = e.killed ? `it ran longer than ${this.#timeoutMs / 1000} s` : `${e.message.split('\n')[0]} ${tail(e.stderr)}`.trim();
      // A scanner that fails is retried with backoff; nothing is stored meanwhile.
      throw new UnavailableError(`trivy could not scan ${target.name} ${target.version}: ${why}`, { cause: err, retryAfterMs: 60_000 });
    }
    const findings = findingsOf(out.stdout);
    this.#logger?.info('trivy scanned a module', { module: target.name, version: target.version, findings: findings.length, ms: Date.now() - started });
    return { findings, scanner: this.scanner };
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
