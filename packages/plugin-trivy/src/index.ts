/**
 * `@opendepot/plugin-trivy`: Trivy configuration scans of modules, and vulnerability scans of
 * provider packages and source trees, before the operator stores them. Load it with
 * `plugins: [{ package: '@opendepot/plugin-trivy' }]`; the operator's scanning policy decides
 * which findings keep a version out.
 * @packageDocumentation
 */
import { definePlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type TrivyScannerConfig } from './config.ts';
import { TrivyScanner } from './scanner.ts';

export { TrivyScanner } from './scanner.ts';
export { findingsOf } from './report.ts';
export { readDatabase, TrivyDatabaseMissingError } from './database.ts';
export { configSchema, type TrivyScannerConfig } from './config.ts';

/** The plugin: `kind: scanner`, `name: trivy`. */
export default definePlugin({
  kind: 'scanner',
  name: 'trivy',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: TrivyScannerConfig, context) {
    const scanner = await new TrivyScanner(config ?? {}, { logger: context.logger }).init();
    context.logger.info('trivy scanner ready', { scanner: scanner.scanner });
    return scanner;
  },
});
