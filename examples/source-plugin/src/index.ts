/**
 * `@opendepot-example/source-https-dir`: an OpenDepot archive source serving modules from a
 * plain HTTPS directory of tarballs. A third-party plugin: it uses nothing of OpenDepot but the
 * public `@opendepot/sdk`.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { InputError, definePlugin, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, type HttpsDirSourceConfig } from './config.ts';
import { HttpsDirSource } from './source.ts';

export { configSchema, DEFAULT_MAX_ARCHIVE_BYTES, DEFAULT_REQUEST_TIMEOUT_SECONDS, type HttpsDirSourceConfig } from './config.ts';
export { HttpsDirSource, type HttpsDirSourceOptions } from './source.ts';
export { parseVersionsIndex, type IndexedVersion } from './versions-index.ts';

/** The plugin: `kind: archive-source`, `name: https-dir`. */
export default definePlugin({
  kind: 'archive-source',
  name: 'https-dir',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(config: HttpsDirSourceConfig, context) {
    const { caFile, ...rest } = config;
    const caPem = caFile === undefined ? undefined : await readCaFile(caFile);
    const source = new HttpsDirSource({ ...rest, ...(caPem !== undefined ? { caPem } : {}) });
    context.logger.info('https-dir source ready', { baseUrl: config.baseUrl });
    return source;
  },
});

async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`caFile ${path} cannot be read: ${(err as Error).message}`, { field: 'caFile', cause: err });
  }
}
