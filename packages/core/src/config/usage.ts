/**
 * The `--help` text of the host processes (operator and server): the command line, what the
 * host does, its options and every environment variable it reads.
 */
import { ENV_MAPPINGS } from './env.ts';
import { CONFIG_FILE_ENV } from './load-config.ts';

/** A variable listed in the usage: its name and a one-line description. */
export interface UsageVariable {
  name: string;
  description: string;
}

/** Options of {@link hostUsage}. */
export interface HostUsageOptions {
  /** How the host is run, e.g. `node main.js`. */
  command: string;
  /** What the host does; may span lines (`\n`). */
  summary: string;
  /** The host's own variables, listed after {@link CONFIG_FILE_ENV} and before the configuration's. */
  extraVariables?: readonly UsageVariable[];
}

/**
 * The text `--help` prints: the usage line, the summary, `--config` and `-h/--help`, then
 * {@link CONFIG_FILE_ENV}, the host's extra variables and every {@link ENV_MAPPINGS} entry, aligned.
 */
export function hostUsage({ command, summary, extraVariables = [] }: HostUsageOptions): string {
  const vars: readonly UsageVariable[] = [{ name: CONFIG_FILE_ENV, description: 'configuration file, when --config is not given' }, ...extraVariables, ...ENV_MAPPINGS];
  const width = Math.max(...vars.map(({ name }) => name.length));
  return [
    `Usage: ${command} [--config FILE]`,
    '',
    summary,
    '',
    'Options:',
    '  --config FILE   YAML configuration file (e.g. /etc/opendepot/config.yaml)',
    '  -h, --help      print this help and exit',
    '',
    'Environment (overrides the configuration file; an empty value counts as unset):',
    ...vars.map(({ name, description }) => `  ${name.padEnd(width)}  ${description}`),
    '',
  ].join('\n');
}

/** Whether the command-line arguments (`process.argv.slice(2)`) ask for the usage: `--help` or `-h`. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
