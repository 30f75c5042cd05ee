/**
 * Runs the real `tofu` / `terraform` against a local registry, offline (protocol.md §8): a CLI
 * config whose `host` block maps a made-up hostname to the server (no discovery over DNS),
 * `SSL_CERT_FILE` trusting the test CA, and a fresh HOME and working directory per run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureTool } from './tools.ts';

const execFileAsync = promisify(execFile);

/** The services a CLI config `host` block maps. */
export interface HostServices {
  'modules.v1'?: string;
  'providers.v1'?: string;
  /** `tofu login`'s OAuth client (the `login.v1` object of discovery). */
  'login.v1'?: Record<string, string | number | readonly (string | number)[]>;
}

/** The text of a CLI config mapping `host` to `services`, plus any extra blocks (e.g. provider_installation). */
export function cliConfigText(host: string, services: HostServices, extra = 'provider_installation {\n  direct {}\n}\n'): string {
  // HCL 1 object syntax (`key = value`), which the CLI config parser reads.
  const hcl = (v: string | number | readonly (string | number)[]): string => (Array.isArray(v) ? `[${v.map((i) => JSON.stringify(i)).join(', ')}]` : JSON.stringify(v));
  const lines = Object.entries(services).map(([k, v]) =>
    typeof v === 'string'
      ? `    "${k}" = "${v}"`
      : `    "${k}" = {\n${Object.entries(v as Record<string, string>)
          .map(([a, b]) => `      ${a} = ${hcl(b)}`)
          .join('\n')}\n    }`,
  );
  return `host "${host}" {\n  services = {\n${lines.join('\n')}\n  }\n}\n\n${extra}`;
}

/** What a client run printed. */
export interface ClientRun {
  code: number;
  output: string;
  /** The working directory it ran in (holds `.terraform/`). */
  workdir: string;
}

/** Options of {@link runRegistryClient}. */
export interface ClientRunOptions {
  /** Directory under which a fresh working directory is made. */
  parentDir: string;
  /**
   * The CLI config file (`TF_CLI_CONFIG_FILE`). Leave it out to have the CLI read its own config
   * under HOME, credentials included: with `TF_CLI_CONFIG_FILE` set, the token `login` stored in
   * `~/.terraform.d/credentials.tfrc.json` is not loaded.
   */
  cliConfig?: string;
  /** HOME of the run (e.g. where `cliLogin` stored a token); default a fresh one in the working directory. */
  home?: string;
  /** The CA the server's certificate chains to. */
  caFile: string;
  /** Contents of `main.tf`. */
  mainTf: string;
  /** Arguments; default `init -backend=false -input=false -no-color`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs `tool` (default args: `init`) in a fresh directory and returns its exit code and output. */
export async function runRegistryClient(tool: 'tofu' | 'terraform', options: ClientRunOptions): Promise<ClientRun> {
  const bin = await ensureTool(tool);
  const workdir = await mkdtemp(join(options.parentDir, `${tool}-`));
  const home = options.home ?? join(workdir, '.home');
  if (options.home === undefined) await mkdir(home);
  await writeFile(join(workdir, 'main.tf'), options.mainTf);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ...(options.cliConfig !== undefined && { TF_CLI_CONFIG_FILE: options.cliConfig }),
    SSL_CERT_FILE: options.caFile,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_REGISTRY_CLIENT_TIMEOUT: '10',
    TF_REGISTRY_DISCOVERY_RETRY: '0',
    ...options.env,
  };
  const args = options.args ?? ['init', '-backend=false', '-input=false', '-no-color'];
  try {
    const { stdout, stderr } = await execFileAsync(bin, args, { cwd: workdir, env, timeout: options.timeoutMs ?? 120_000 });
    return { code: 0, output: stdout + stderr, workdir };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}`, workdir };
  }
}
