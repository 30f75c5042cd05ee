/**
 * Runs the git CLI safely: no shell, arguments as an array, no prompts, only the allowed
 * transports, no system config or templates, a timeout, and errors mapped to the contract's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ForbiddenError, InputError, NotFoundError, UnauthenticatedError, UnavailableError } from '@opendepot/sdk';

/** How git is run. */
export interface GitRunOptions {
  /** The git binary. */
  git: string;
  /** Allow the file transport (the `allowFileUrls` policy). */
  allowFile: boolean;
  /** Kill a command running longer than this. */
  timeoutMs: number;
  /** Extra environment, e.g. `GIT_SSH_COMMAND` with a key file. */
  env?: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** Cut an http(s) transfer slower than `bytesPerSecond` for `seconds` (git's http.lowSpeed*). */
  lowSpeed?: { bytesPerSecond: number; seconds: number };
}

const MAX_STDERR = 64 * 1024;
const MAX_STDOUT = 16 * 1024 * 1024;

/**
 * The only variables git inherits. Everything else could reconfigure it: HOME and XDG_CONFIG_HOME
 * (a ~/.gitconfig `insteadOf` redirecting a remote, credential helpers), GIT_* (GIT_DIR,
 * GIT_CONFIG_PARAMETERS), and the proxy variables (traffic sent through a host nobody chose).
 */
const INHERITED_ENV = ['PATH', 'TMPDIR', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'GIT_SSH_COMMAND', 'GIT_SSH'];

let emptyHome: string | undefined;

/** An empty directory made once per process (again after {@link releaseGitHome}): git's HOME, so no user configuration is found. */
export function gitHome(): string {
  if (emptyHome === undefined) {
    emptyHome = mkdtempSync(join(tmpdir(), 'opendepot-git-home-'));
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', releaseGitHome);
    }
  }
  return emptyHome;
}
let exitHooked = false;

/** Removes git's HOME (an operator stopping, the process exiting); the next git command makes a new one. */
export function releaseGitHome(): void {
  if (emptyHome === undefined) return;
  rmSync(emptyHome, { recursive: true, force: true });
  emptyHome = undefined;
}

/** The environment git runs with: a clean one, plus the caller's `env` (e.g. an ssh key). */
export function gitEnv(options: Pick<GitRunOptions, 'allowFile' | 'env'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of INHERITED_ENV) if (process.env[key] !== undefined) env[key] = process.env[key];
  Object.assign(env, options.env);
  env.HOME = gitHome();
  env.XDG_CONFIG_HOME = gitHome();
  env.GIT_CONFIG_GLOBAL = '/dev/null';
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_ALLOW_PROTOCOL = options.allowFile ? 'https:ssh:file' : 'https:ssh';
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_PROTOCOL_FROM_USER = '0';
  env.LC_ALL = 'C';
  if (env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
  return env;
}

/** `-c` settings in front of every command; the same policy as the environment, in config form. */
export function gitConfigArgs(allowFile: boolean): string[] {
  return [
    '-c',
    'protocol.allow=never',
    '-c',
    'protocol.https.allow=always',
    '-c',
    'protocol.ssh.allow=always',
    '-c',
    `protocol.file.allow=${allowFile ? 'always' : 'never'}`,
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'credential.interactive=never',
    // An empty value clears the list of credential helpers.
    '-c',
    'credential.helper=',
  ];
}

/** `-c` settings that cut a slow or stalled http(s) transfer (ssh is bounded by the command timeout). */
export function gitLowSpeedArgs(lowSpeed: GitRunOptions['lowSpeed']): string[] {
  if (!lowSpeed) return [];
  return ['-c', `http.lowSpeedLimit=${Math.max(1, Math.floor(lowSpeed.bytesPerSecond))}`, '-c', `http.lowSpeedTime=${Math.max(1, Math.ceil(lowSpeed.seconds))}`];
}

/** A git command that failed. */
export class GitCommandError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(command: string, exitCode: number | null, stderr: string, timedOut: boolean) {
    super(`git ${command} ${timedOut ? 'timed out' : `exited with ${exitCode ?? 'a signal'}`}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'GitCommandError';
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.timedOut = timedOut;
  }
}

/** A started git command. */
interface Started {
  child: ChildProcess;
  /** Resolves on exit 0; rejects with {@link GitCommandError} otherwise. */
  done: Promise<void>;
}

function start(args: string[], options: GitRunOptions): Started {
  const child = spawn(options.git, [...gitConfigArgs(options.allowFile), ...gitLowSpeedArgs(options.lowSpeed), ...args], {
    cwd: options.cwd,
    env: gitEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
    killSignal: 'SIGKILL',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // Our own timer, not spawn's `timeout`: Node leaves that one running (for its full length) when
  // the spawn itself fails, which kept a process alive for minutes after git was not found.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < MAX_STDERR) stderr += chunk;
  });
  const name = args.find((a) => !a.startsWith('-') && a !== 'git') ?? 'command';
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(options.signal?.aborted ? options.signal.reason : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (code === 0) resolve();
      else reject(new GitCommandError(name, code, redactText(stderr.trim()), timedOut));
    });
  });
  return { child, done };
}

/** Runs git to completion and returns its stdout. */
export async function runGit(args: string[], options: GitRunOptions): Promise<string> {
  const { child, done } = start(args, options);
  let stdout = '';
  let overflow = false;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    if (stdout.length + chunk.length > MAX_STDOUT) {
      overflow = true;
      child.kill('SIGKILL');
    } else {
      stdout += chunk;
    }
  });
  try {
    await done;
  } catch (err) {
    if (overflow) throw new UnavailableError(`git ${args[0] ?? ''} printed more than ${MAX_STDOUT} bytes`);
    throw err;
  }
  return stdout;
}

/** Starts git and hands over its stdout as a stream; `done` settles when it exits. */
export function streamGit(args: string[], options: GitRunOptions): { stdout: Readable; done: Promise<void>; kill(): void } {
  const { child, done } = start(args, options);
  done.catch(() => undefined);
  // Claim stdout at once: when a child exits before its stdout has a consumer, Node resumes the
  // stream and the unread output is lost. The pipe applies back-pressure to git instead.
  const stdout = new PassThrough();
  child.stdout?.pipe(stdout);
  child.stdout?.on('error', (err) => stdout.destroy(err));
  return { stdout, done, kill: () => child.kill('SIGKILL') };
}

/**
 * Maps a failed git command about `remote` (already redacted) to a contract error: network,
 * timeouts and server errors → UnavailableError (retried); unknown repository or ref →
 * NotFoundError; refused credentials → UnauthenticatedError; anything else (e.g. "invalid path"
 * in the upstream's tree) → InputError, which is permanent: retrying the same content cannot help.
 */
export function gitError(err: unknown, what: string): unknown {
  if (!(err instanceof GitCommandError)) return err;
  const detail = lastLines(err.stderr);
  const message = `${what} failed${detail ? `: ${detail}` : ''}`;
  if (err.timedOut) return new UnavailableError(`${what} timed out`, { cause: err });
  if (err.exitCode === null) return new UnavailableError(`${what} was killed`, { cause: err });
  if (
    /could not resolve host|timed out|too slow|(could( not|n.t)|failed to|unable to) connect|connection (refused|reset|closed)|network is unreachable|temporary failure|early eof|hung up unexpectedly|rpc failed|\b5\d\d\b|\b429\b|ssl|tls|gnutls|cannot allocate|out of memory|no space left/i.test(
      err.stderr,
    )
  ) {
    return new UnavailableError(message, { cause: err });
  }
  // An https 403: the credentials were read and are not allowed this repository.
  if (/returned error: 403\b/i.test(err.stderr)) {
    return new ForbiddenError(message, { cause: err, hint: 'the credentials the operator uses for this remote may not read it' });
  }
  if (/authentication failed|could not read (username|password)|permission denied|terminal prompts disabled|\b401\b/i.test(err.stderr)) {
    return new UnauthenticatedError(message, { cause: err, hint: 'check the credentials the operator uses for this remote (ssh key or https token)' });
  }
  if (/not found|does not appear to be a git repository|does not exist|couldn't find remote ref|no such (file|repository)/i.test(err.stderr)) {
    return new NotFoundError(message, { cause: err });
  }
  return new InputError(message, { cause: err, hint: 'git refused what the remote holds; fix the repository or the tag, then touch the resource to retry' });
}

function lastLines(text: string): string {
  return text.split('\n').filter(Boolean).slice(-3).join(' / ').slice(0, 500);
}

/** Removes credentials from URLs in git's messages. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
