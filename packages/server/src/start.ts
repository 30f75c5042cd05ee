/**
 * Runs the server from configuration: plugins and the storage resolver, read-only informers
 * of Modules and Versions, and the HTTP(S) listener. The container entry point and the local
 * quickstart both call `startServer`.
 */
import {
  RESOURCES,
  createInformer,
  createKubeClient,
  createLogger,
  kubeLoggerOf,
  startPluginHost,
  type HostConfig,
  type Module,
  type Version,
} from '@opendepot/core';
import type { Logger } from '@opendepot/sdk';
import type { ListeningServer } from './listen.ts';
import { createRegistryServer, type RegistryServer } from './server.ts';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  config: HostConfig;
  /** Where relative plugin paths and packages are resolved from. */
  baseDir?: string;
  /** A kubeconfig file; in-cluster or `$KUBECONFIG` discovery when unset. */
  kubeconfigPath?: string;
  logger?: Logger;
}

/** A serving registry. */
export interface RunningServer {
  readonly registry: RegistryServer;
  readonly listening: ListeningServer;
  /** Resolves once every informer holds its first list (what /readyz reports). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the registry server; it listens at once and is ready when its caches have synced. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'opendepot-server' });
  const client = createKubeClient({ ...(options.kubeconfigPath && { kubeconfigPath: options.kubeconfigPath }), userAgent: 'opendepot-server/0.1.0' });
  const plugins = await startPluginHost(config, { logger, ...(options.baseDir && { baseDir: options.baseDir }) });
  const { storage } = plugins;

  const informerOptions = { logger: kubeLoggerOf(logger) };
  const modules = createInformer<Module>(client, RESOURCES.module, informerOptions);
  const versions = createInformer<Version>(client, RESOURCES.version, informerOptions);
  const registry = createRegistryServer({ informers: { modules, versions }, resolveStorage: (c, where) => storage.resolve(c, where), logger });
  const listening = await registry.listen({
    port: config.server.port,
    host: config.server.host,
    ...(config.server.tls && { tls: config.server.tls }),
  });
  const synced = Promise.all([modules.start(), versions.start()]).then(() => logger.info('caches synced; serving', { url: listening.url }));
  return {
    registry,
    listening,
    synced,
    async stop() {
      await listening.close();
      registry.dispose();
      modules.stop();
      versions.stop();
      await plugins.close();
      await client.close();
    },
  };
}
