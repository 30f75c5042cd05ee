/**
 * The real `tofu login <host>` (or `terraform login`), driven as a user would: it answers `yes`,
 * plays the browser on the authorization URL the CLI prints ({@link browserLogin} through Dex's
 * login form, then the redirect to the CLI's loopback listener), waits for the CLI to exchange the
 * code and store the token, and returns that token from `<home>/.terraform.d/credentials.tfrc.json`.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { browserLogin, type DexCredentials } from './dex-login.ts';
import { eventually } from './processes.ts';

/** Options of {@link cliLogin}. */
export interface CliLoginOptions {
  /** The registry host to log in to, as `tofu login` takes it. */
  host: string;
  /** HOME of the run: the token is stored under `<home>/.terraform.d`. */
  home: string;
  /** The CLI config file (`TF_CLI_CONFIG_FILE`). */
  cliConfig: string;
  credentials: DexCredentials;
  /** More environment (e.g. `SSL_CERT_FILE`); PATH is passed on. */
  env?: NodeJS.ProcessEnv;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** What {@link cliLogin} saw. */
export interface CliLoginResult {
  /** The authorization URL the CLI printed. */
  authorizationUrl: URL;
  /** The CLI listener's answer to the browser's redirect with the code. */
  callbackStatus: number | undefined;
  /** The token the CLI stored for the host. */
  token: string;
  output: string;
}

/** Runs `<bin> login <host>` to the end; throws with the CLI's output when it fails. */
export async function cliLogin(bin: string, options: CliLoginOptions): Promise<CliLoginResult> {
  // Terraform 1.5.7 does not create the directory of its credentials file (OpenTofu does).
  await mkdir(join(options.home, '.terraform.d'), { recursive: true });
  const child = spawn(bin, ['login', options.host], {
    env: { PATH: process.env.PATH, ...options.env, HOME: options.home, TF_CLI_CONFIG_FILE: options.cliConfig, BROWSER: '/bin/true', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // While it runs: not yet (false). Once it exited: the error, which `eventually` reports when it gives up.
  const failed = (): false => {
    if (child.exitCode !== null) throw new Error(`${bin} login exited (${child.exitCode}):\n${output}`);
    return false;
  };
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    await eventually(`${bin} login asks to proceed`, () => /Enter a value:/.test(output) || failed(), 30_000);
    child.stdin.end('yes\n');
    const printed = await eventually(`${bin} login prints the authorization URL`, () => /(https?:\/\/\S+code_challenge=\S+)/.exec(output)?.[1] ?? failed(), 30_000);
    const authorizationUrl = new URL(printed);
    const { callbackResponse } = await browserLogin(authorizationUrl, options.credentials, { followCallback: true });
    const code = await exited;
    if (code !== 0) throw new Error(`${bin} login exited (${code}):\n${output}`);
    const stored = JSON.parse(await readFile(join(options.home, '.terraform.d', 'credentials.tfrc.json'), 'utf8')) as { credentials: Record<string, { token: string }> };
    const token = stored.credentials[options.host]?.token;
    if (token === undefined) throw new Error(`${bin} login stored no token for ${options.host}:\n${output}`);
    return { authorizationUrl, callbackStatus: callbackResponse?.status, token, output };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}
