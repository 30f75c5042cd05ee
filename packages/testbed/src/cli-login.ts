/**
 * The real `tofu login <host>` and `terraform login <host>` (Terraform 1.5.7), with the test bed as
 * the browser: the CLI reads `login.v1` (from a CLI-config `host` block, or from the host's own
 * discovery document), asks to proceed (answered `yes` on stdin, as `login` refuses
 * `-input=false`), prints the authorization URL (`BROWSER=/bin/true` opens nothing),
 * {@link browserLogin} goes through Dex's login form and delivers the code to the CLI's loopback
 * listener, and the CLI exchanges it (PKCE) and stores the token under `HOME`.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { browserLogin, type DexCredentials } from './dex-login.ts';
import { ensureTool } from './tools.ts';

/** Options of {@link cliLogin}. */
export interface CliLoginOptions {
  /**
   * The CLI's HOME. The token is stored in `<home>/.terraform.d/credentials.tfrc.json`; that
   * directory is created here, because Terraform 1.5.7 does not create it (OpenTofu does).
   */
  home: string;
  /** What the user types into Dex's login form. */
  credentials: DexCredentials;
  /** More environment, e.g. `TF_CLI_CONFIG_FILE` (a `host` block) or `SSL_CERT_FILE` (the registry's CA). */
  env?: NodeJS.ProcessEnv;
  /** How long the whole login may take before the CLI is killed; default 60 s. */
  timeoutMs?: number;
}

/** What a successful {@link cliLogin} saw. */
export interface CliLoginResult {
  /** The authorization URL the CLI printed (its `login.v1` `authz` with the OAuth parameters). */
  authorizationUrl: URL;
  /** Dex's redirect to the CLI's listener, `http://localhost:<port>/login?code=…&state=…`. */
  callback: URL;
  /**
   * How the CLI's listener answered the callback: 200 when it took the code; undefined when it
   * closed the connection first, which Terraform 1.5.7 may do although it took the code.
   */
  callbackStatus: number | undefined;
  /** The token the CLI stored for `host`. */
  token: string;
  /** Everything the CLI printed. */
  output: string;
}

/**
 * Runs `<tool> login <host>` to the end. Throws (with the CLI's output) when the CLI exits before
 * printing the authorization URL, exits with another code than 0, or stores no token for `host`.
 */
export async function cliLogin(tool: 'tofu' | 'terraform', host: string, options: CliLoginOptions): Promise<CliLoginResult> {
  const bin = await ensureTool(tool);
  await mkdir(join(options.home, '.terraform.d'), { recursive: true });
  const child = spawn(bin, ['login', host], {
    env: { PATH: process.env.PATH, HOME: options.home, BROWSER: '/bin/true', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A CLI that exited early closes its stdin; that shows as its exit status, not as an EPIPE here.
  child.stdin.on('error', () => undefined);
  let output = '';
  const waiters = new Set<() => void>();
  const onOutput = (data: Buffer) => {
    output += data.toString();
    for (const wake of waiters) wake();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const failure = (what: string) => new Error(`${tool} login ${host}: ${what}\n${output}`);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  /** The first match of `pattern` in the output; rejects when the CLI exits first. */
  const printed = (pattern: RegExp, what: string) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match !== null) {
          waiters.delete(check);
          resolve(match);
        }
      };
      waiters.add(check);
      check();
      void exited.then(() => {
        waiters.delete(check);
        reject(failure(timedOut ? `not done within ${timeoutMs} ms, waiting until it ${what}` : `it exited before it ${what}`));
      });
    });
  try {
    await printed(/Enter a value:/, 'asked to proceed');
    child.stdin.end('yes\n');
    const authorizationUrl = new URL((await printed(/(https?:\/\/\S+code_challenge=\S+)/, 'printed the authorization URL'))[1]!);
    const { callback, callbackStatus } = await browserLogin(authorizationUrl, options.credentials, { followCallback: true }).catch((err: unknown) => {
      // fetch's own message is just "fetch failed": its cause says what.
      const cause = err instanceof Error && err.cause !== undefined ? ` (${String(err.cause)})` : '';
      throw failure(`the browser's part failed: ${err instanceof Error ? err.message : String(err)}${cause}`);
    });
    const code = await exited;
    if (code !== 0) throw failure(timedOut ? `not done within ${timeoutMs} ms` : `it exited with ${code}`);
    const stored = JSON.parse(await readFile(join(options.home, '.terraform.d', 'credentials.tfrc.json'), 'utf8')) as { credentials?: Record<string, { token?: string }> };
    const token = stored.credentials?.[host]?.token;
    if (token === undefined) throw failure(`it stored no token for ${host} (it has ${Object.keys(stored.credentials ?? {}).join(', ') || 'none'})`);
    return { authorizationUrl, callback, callbackStatus, token, output };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}
