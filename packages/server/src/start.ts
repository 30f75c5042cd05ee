/**
 * Runs the server from configuration: plugins and the storage resolver, the provider signing
 * key (`server.gpg`), read-only informers of Modules and Versions, and the HTTP(S) listener. The container entry point and the local
 * quickstart both call `startServer`.
 */
import {
  CORE_RESOURCES,
  GroupBindingCompiler,
  RESOURCES,
  decideAccess,
  createInformer,
  createKubeClient,
  createLogger,
  kubeLoggerOf,
  resourceClient,
  startPluginHost,
  type HostConfig,
  type KubeClient,
  type GroupBinding,
  type Informer,
  type KubeObject,
} from '@opendepot/core';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AuthProvider, Logger, Principal, ProtectedResource } from '@opendepot/sdk';
import type { NamedAuthProvider } from './auth/access-control.ts';
import { anonymousProvider } from './auth/anonymous.ts';
import { kubeconfigProvider, kubernetesProvider } from './auth/kubernetes.ts';
import type { ListeningServer } from './listen.ts';
import { registryInformers } from './catalog/cached-objects.ts';
import { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server.ts';
import { loadSigningKey, type SigningKey } from './signing/signing-key.ts';

/** This package's directory: the first-party plugins are its dependencies, installed beside it. */
const HOST_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Options of {@link startServer}. */
export interface StartServerOptions {
  config: HostConfig;
  /** Where relative plugin paths and packages are resolved from. */
  baseDir?: string;
  /** A kubeconfig file; in-cluster or `$KUBECONFIG` discovery when unset. */
  kubeconfigPath?: string;
  logger?: Logger;
  /** The GroupBinding check for principals of providers that do not authorize themselves (OIDC); unset, they are granted nothing. */
  grants?: (principal: Principal, resource: ProtectedResource) => boolean;
}

/** A serving registry. */
export interface RunningServer {
  readonly registry: RegistryServer;
  readonly listening: ListeningServer;
  /** The `/metrics` listener (`server.metricsPort`). */
  readonly metrics: ListeningServer;
  /** Resolves once every informer holds its first list (what /readyz reports). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the registry server; it listens at once and is ready when its caches have synced. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'opendepot-server' });
  // First: a bad key or passphrase stops start-up before anything else is opened.
  const signingKey: SigningKey | undefined = config.server.gpg && (await loadSigningKey(config.server.gpg));
  const client = createKubeClient({ ...(options.kubeconfigPath && { kubeconfigPath: options.kubeconfigPath }), userAgent: 'opendepot-server/0.1.0' });
  // Storage credentials (`credentialsSecretRef`) are Secrets of the server's namespace.
  const secrets = resourceClient<KubeObject & { data?: Record<string, string> }>(client, CORE_RESOURCES.secret);
  const readSecret = async (name: string, key: string): Promise<string> => {
    const value = (await secrets.get(config.namespace ?? client.namespace, name)).data?.[key];
    if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
    return Buffer.from(value, 'base64').toString('utf8');
  };
  // Archive sources and scanners are the operator's: the server fetches and scans nothing, so it
  // makes none (their config is still checked; an entry that declares its kind is not even
  // resolved). A scanner made here would want what only the operator pod has, e.g. trivy's cache volume.
  const plugins = await startPluginHost(config, { logger, readSecret, hostDir: HOST_DIR, skipKinds: ['archive-source', 'scanner'], ...(options.baseDir && { baseDir: options.baseDir }) });
  const { storage } = plugins;
  if (signingKey) logger.info('provider signing key loaded', { keyId: signingKey.keyId, fingerprint: signingKey.fingerprint });
  else logger.warn('no provider signing key configured (server.gpg): providers.v1 downloads answer 500 until one is; the network mirror works without it');

  const auth = await authChain(config, client, plugins.registry.ofKind('auth'), logger, (cache, result) => registry.metrics.authCacheLookups.inc({ cache, result }));

  const informerOptions = { logger: kubeLoggerOf(logger) };
  const { modules, versions } = registryInformers(client, informerOptions.logger);
  // Principals of auth plugins (OIDC) are granted by the GroupBindings of the resource's namespace.
  const groupBindings = plugins.registry.ofKind('auth').length > 0 ? createInformer<GroupBinding>(client, RESOURCES.groupBinding, informerOptions) : undefined;
  const grants = options.grants ?? (groupBindings && groupBindingGrants(groupBindings, logger));
  const registry = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: (c, where) => storage.resolve(c, where),
    // The backend was resolved (so checked) before any redirect is considered.
    presignOf: (c) => storage.check(c, 'spec.storageConfig').presign,
    logger,
    auth,
    ...(grants && { grants }),
    ...(signingKey && { signingKey }),
    ...(config.server.presign && { defaultPresign: config.server.presign }),
    ...(config.server.externalUrl && { externalUrl: config.server.externalUrl }),
    trustedProxies: config.server.trustedProxies,
  });
  const listening = await registry.listen({
    port: config.server.port,
    host: config.server.host,
    limits: config.server.limits,
    ...(config.server.tls && { tls: config.server.tls }),
  });
  const metrics = await registry
    .listenMetrics({
      port: config.server.metricsPort,
      host: config.server.host,
      ...(config.server.tls && { tls: config.server.tls }),
    })
    .catch(async (err: unknown) => {
      // e.g. the metrics port is taken: do not leave the registry port open behind the error.
      await listening.close();
      throw err;
    });
  let stopping: Promise<void> | undefined;
  const synced = Promise.all([modules.start(), versions.start(), groupBindings?.start()]).then(() => logger.info('caches synced; serving', { url: listening.url }));
  return {
    registry,
    listening,
    metrics,
    synced,
    // Once: stopping twice (two signals) waits for the first stop instead of closing closed servers.
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all([listening.close(), metrics.close()]);
        registry.dispose();
        modules.stop();
        versions.stop();
        groupBindings?.stop();
        await plugins.close();
        await client.close();
      })()),
  };
}

/**
 * The GroupBinding check: the valid bindings of the resource's namespace (each compiled once per
 * object the informer holds; an invalid one grants nothing), deny unless one grants it.
 */
function groupBindingGrants(informer: Informer<GroupBinding>, logger: Logger): (principal: Principal, resource: ProtectedResource) => boolean {
  const compiler = new GroupBindingCompiler();
  return (principal, resource) => {
    const decision = decideAccess(compiler.valid(informer.list(resource.namespace)), principal, resource);
    logger.debug('group binding decision', { subject: principal.subject, resource: `${resource.kind} ${resource.namespace}/${resource.name}`, allowed: decision.allowed, reason: decision.reason });
    return decision.allowed;
  };
}

/**
 * The auth chain of `auth:` and the `auth` plugins, in the order they are asked: kubernetes,
 * kubeconfig, the plugins in `plugins:` order, anonymous.
 */
async function authChain(
  config: HostConfig,
  client: KubeClient,
  plugins: ReadonlyArray<{ name: string; instance?: AuthProvider }>,
  logger: Logger,
  onCache: (cache: string, result: string) => void,
): Promise<NonNullable<RegistryServerOptions['auth']>> {
  const { auth } = config;
  const cache = { client, cacheTtlSeconds: auth.kubernetes.cacheTtlSeconds, cacheMaxEntries: auth.kubernetes.cacheMaxEntries, onCache, log: logger };
  const providers: NamedAuthProvider[] = [];
  if (auth.kubernetes.enabled) providers.push({ name: 'kubernetes', provider: kubernetesProvider({ ...cache, audiences: auth.kubernetes.audiences, refuseKubeconfigs: !auth.kubeconfig.enabled }) });
  if (auth.kubeconfig.enabled) {
    logger.warn('auth.kubeconfig is enabled: base64 kubeconfigs are accepted as registry tokens. This is for local clusters only; do not use it in production');
    providers.push({ name: 'kubeconfig', provider: kubeconfigProvider(cache) });
  }
  for (const plugin of plugins) if (plugin.instance !== undefined) providers.push({ name: plugin.name, provider: plugin.instance });
  if (auth.anonymous.enabled) providers.push({ name: 'anonymous', provider: anonymousProvider() });
  if (providers.length === 0) logger.warn('no auth method is enabled (auth.anonymous, auth.kubernetes, auth.kubeconfig, auth plugins): every protected request is refused');
  let downloadUrlSecret: Buffer | undefined;
  if (auth.downloadUrlSecretFile !== undefined) downloadUrlSecret = Buffer.from((await readFile(auth.downloadUrlSecretFile, 'utf8')).trim(), 'utf8');
  else if (!auth.anonymous.enabled)
    logger.warn('auth.downloadUrlSecretFile is not set: signed download URLs use a random key of this process, so with several replicas a URL signed by one is refused by the others');
  logger.info('auth methods', { providers: providers.map((p) => p.name) });
  return { providers, downloadUrlTtlSeconds: auth.downloadUrlTtlSeconds, ...(downloadUrlSecret && { downloadUrlSecret }) };
}
