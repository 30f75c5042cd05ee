/**
 * The server's process entry: `node main.js --config /etc/opendepot/config.yaml`. Bad
 * configuration or a plugin that fails to load stops it at once with a message naming the
 * field or plugin; SIGTERM stops listening (letting requests finish) before exiting.
 * `--help` (or `-h`) prints the usage and exits without starting anything.
 */
import { createLogger, hostUsage, loadConfig, wantsHelp } from '@opendepot/core';
import { startServer } from './start.ts';

/** The text `--help` prints. */
const USAGE = hostUsage({
  command: 'node main.js',
  summary: ['The OpenDepot registry server: serves the module, provider and network-mirror protocols from', 'the Kubernetes resources the operator keeps.'].join('\n'),
});

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  const { config, baseDir, warnings, file } = await loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'opendepot-server' });
  for (const warning of warnings) logger.warn(warning);
  const server = await startServer({ config, baseDir, logger });
  logger.info('server listening', { config: file, url: server.listening.url, metricsUrl: server.metrics.url });
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
