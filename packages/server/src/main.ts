/**
 * The server's process entry: `node main.js --config /etc/opendepot/config.yaml`. Bad
 * configuration or a plugin that fails to load stops it at once with a message naming the
 * field or plugin; SIGTERM stops listening (letting requests finish) before exiting.
 * `--help` (or `-h`) prints the usage and exits without starting anything.
 */
import { CONFIG_FILE_ENV, createLogger, ENV_MAPPINGS, loadConfig } from '@opendepot/core';
import { startServer } from './start.ts';

/** The text `--help` prints. */
function usage(): string {
  const vars: [string, string][] = [
    [CONFIG_FILE_ENV, 'configuration file, when --config is not given'],
    ...ENV_MAPPINGS.map((m): [string, string] => [m.name, m.description]),
  ];
  const width = Math.max(...vars.map(([name]) => name.length));
  return [
    'Usage: node main.js [--config FILE]',
    '',
    'The OpenDepot registry server: serves the module, provider and network-mirror protocols from',
    'the Kubernetes resources the operator keeps.',
    '',
    'Options:',
    '  --config FILE   YAML configuration file (e.g. /etc/opendepot/config.yaml)',
    '  -h, --help      print this help and exit',
    '',
    'Environment (overrides the configuration file; an empty value counts as unset):',
    ...vars.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  const { config, baseDir, warnings, file } = await loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'opendepot-server' });
  for (const warning of warnings) logger.warn(warning);
  const server = await startServer({ config, baseDir, logger });
  logger.info('server listening', { config: file, url: server.listening.url });
  const stop = (signal: string) => {
    logger.info('stopping', { signal });
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`opendepot-server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
