/**
 * The operator's process entry: `node main.js --config /etc/opendepot/config.yaml`. Bad
 * configuration or a plugin that fails to load stops it at once with a message naming the
 * field or plugin; SIGTERM stops the controllers and releases the Lease before exiting.
 * `--help` (or `-h`) prints the usage and exits without starting anything.
 */
import { createLogger, hostUsage, loadConfig, wantsHelp } from '@opendepot/core';
import { startOperator } from './operator.ts';

/** The variable naming the health and metrics port. */
const HEALTH_PORT_ENV = 'OPENDEPOT_HEALTH_PORT';

/** The text `--help` prints. */
const USAGE = hostUsage({
  command: 'node main.js',
  summary: 'The OpenDepot operator: reconciles Modules, Providers and Depots into stored, verified Versions.',
  extraVariables: [{ name: HEALTH_PORT_ENV, description: 'port of /healthz, /readyz and /metrics (default 8081)' }],
});

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  const { config, baseDir, warnings, file } = await loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'opendepot-operator' });
  for (const warning of warnings) logger.warn(warning);
  const healthPort = Number(process.env[HEALTH_PORT_ENV] ?? 8081);
  const operator = await startOperator({
    config,
    baseDir,
    healthPort,
    logger,
    onFatal: (err) => {
      logger.error('stopping', { err: err.message });
      process.exit(1);
    },
  });
  logger.info('operator started', { config: file, health: operator.health.url });
  const stop = (signal: string) => {
    logger.info('stopping', { signal });
    void operator.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`opendepot-operator: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
