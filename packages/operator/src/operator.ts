/**
 * Assembles the operator: configuration, plugins and the storage resolver, the Kubernetes
 * client and informers, the Module and Version controllers, leader election and the probe and
 * metrics endpoint. `startOperator` is what both the container entry point and the local
 * quickstart call.
 */
import {
  RESOURCES,
  CORE_RESOURCES,
  createInformer,
  createKubeClient,
  createLogger,

  resourceClient,
  startPluginHost,
  type HostConfig,
  type KubeClient,
  type KubeObject,
  kubeLoggerOf,
  type Depot,
  type Module,
  type Provider,
  type Version,
} from '@opendepot/core';
import { fileURLToPath } from 'node:url';
import type { ArchiveSource, Logger } from '@opendepot/sdk';
import { depotReconciler } from './controllers/depot-controller.ts';
import { moduleScanStatus, planModule } from './controllers/module-plan.ts';
import { ownerReconciler } from './controllers/owner-controller.ts';
import { planProvider, platformStatus } from './controllers/provider-plan.ts';
import { OWNER_KIND_LABEL } from './controllers/naming.ts';
import { versionReconciler } from './controllers/version-controller.ts';
import { Controller, EventRecorder, LeaderElector, StatusWriter, createRuntimeMetrics, operatorReadiness, startHealthServer, type HealthServer } from './runtime/index.ts';
import { Egress } from './sources/egress.ts';
import { createModuleSource, sourceKindFor } from './sources/index.ts';
import { createProviderSource } from './sources/providers/index.ts';

/** This package's directory: the first-party plugins are its dependencies, installed beside it. */
const HOST_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Options of {@link startOperator}. */
export interface OperatorOptions {
  config: HostConfig;
  /** Where relative plugin paths and packages are resolved from. */
  baseDir?: string;
  /** A kubeconfig file; in-cluster or `$KUBECONFIG` discovery when unset. */
  kubeconfigPath?: string;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. Default 8081. */
  healthPort?: number;
  logger?: Logger;
  /** Called when leadership is lost: the safe reaction is to exit and let the pod restart. */
  onFatal?: (err: Error) => void;
}

/** A running operator. */
export interface RunningOperator {
  readonly health: HealthServer;
  readonly client: KubeClient;
  /** Stops the controllers, releases the Lease, closes plugins and connections. */
  stop(): Promise<void>;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

/** Maps a Version to the key of its owner of `kind`. */
function ownerOf(kind: 'Module' | 'Provider') {
  return (v: KubeObject): string[] => (v.metadata.labels?.[OWNER_KIND_LABEL] === kind ? [`${v.metadata.namespace}/${(v as Version).spec.ownerName}`] : []);
}

/** Starts the operator and resolves once its informers have synced (it may still be on standby). */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { config } = options;
  const logger = (options.logger ?? createLogger({ level: config.logLevel, name: 'opendepot-operator' })) as Logger;
  const kubeLog = kubeLoggerOf(logger);
  const client = createKubeClient({ ...(options.kubeconfigPath && { kubeconfigPath: options.kubeconfigPath }), userAgent: 'opendepot-operator/0.1.0' });
  const secrets = resourceClient<SecretObject>(client, CORE_RESOURCES.secret);
  const ownNamespace = config.namespace ?? client.namespace;
  const readSecret = async (name: string, key: string, namespace = ownNamespace): Promise<string> => {
    const secret = await secrets.get(namespace, name);
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(value, 'base64').toString('utf8');
  };
  const plugins = await startPluginHost(config, { logger, readSecret: (name, key) => readSecret(name, key), hostDir: HOST_DIR, ...(options.baseDir && { baseDir: options.baseDir }) });
  const { storage } = plugins;

  // One instance per source kind, made on first use.
  const sources = new Map<string, ArchiveSource>();
  // One egress policy (and connection pool) for every source: non-public addresses refused unless allowed.
  const egress = new Egress(config.operator.egress);
  const providerOptions = {
    hashicorpReleasesUrl: config.operator.providers.hashicorpReleasesUrl,
    hashicorpTrustedKeys: config.operator.providers.hashicorpTrustedKeys,
    allowInsecureHttp: config.operator.providers.allowInsecureHttp,
    ...(config.operator.providers.allowedRegistryHosts && { allowedRegistryHosts: config.operator.providers.allowedRegistryHosts }),
    ...(config.operator.providers.allowedDownloadHosts && { allowedDownloadHosts: config.operator.providers.allowedDownloadHosts }),
    egress,
    logger,
  };
  const sourceOf = (kind: 'module' | 'provider', sourceKind: string): ArchiveSource => {
    let source = sources.get(`${kind}:${sourceKind}`);
    if (!source) {
      source =
        kind === 'provider'
          ? createProviderSource(sourceKind as 'hashicorp-releases' | 'registry', providerOptions)
          : createModuleSource(sourceKind as 'github' | 'git', {
              github: {
                baseUrl: config.operator.github.apiUrl,
                ...(config.operator.allowedGitHosts && { allowedHosts: config.operator.allowedGitHosts }),
                egress,
                readSecret: (n, k, ns) => readSecret(n, k, ns).catch(() => undefined),
                logger,
              },
              git: { allowFileUrls: config.allowFileUrls, ...(config.operator.allowedGitHosts && { allowedHosts: config.operator.allowedGitHosts }), egress, logger },
            });
      sources.set(`${kind}:${sourceKind}`, source);
    }
    return source;
  };
  const sourceFor = (version: Version): ArchiveSource =>
    version.spec.kind === 'Provider' ? sourceOf('provider', version.spec.provider?.source ?? 'hashicorp-releases') : sourceOf('module', sourceKindFor(version.spec.module!));

  const watchNamespace = config.operator.watchNamespaces?.length === 1 ? config.operator.watchNamespaces[0] : undefined;
  const informerOptions = { ...(watchNamespace && { namespace: watchNamespace }), logger: kubeLog };
  const modules = createInformer<Module>(client, RESOURCES.module, informerOptions);
  const providers = createInformer<Provider>(client, RESOURCES.provider, informerOptions);
  const depots = createInformer<Depot>(client, RESOURCES.depot, informerOptions);
  const versions = createInformer<Version>(client, RESOURCES.version, informerOptions);
  const moduleResource = resourceClient<Module>(client, RESOURCES.module, { fieldManager: 'opendepot-operator' });
  const depotResource = resourceClient<Depot>(client, RESOURCES.depot, { fieldManager: 'opendepot-operator' });
  const providerResource = resourceClient<Provider>(client, RESOURCES.provider, { fieldManager: 'opendepot-operator' });
  const versionResource = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'opendepot-operator' });
  const events = new EventRecorder({ client, component: 'opendepot-operator', logger: kubeLog });
  const metrics = createRuntimeMetrics();
  const concurrency = config.operator.concurrency;

  const controllers = [
    new Controller<Module>({
      name: 'module',
      informer: modules,
      reconcile: ownerReconciler(
        {
          kind: 'Module',
          informer: modules,
          resource: moduleResource,
          status: new StatusWriter(moduleResource),
          plan: (m, owned) => planModule(m, owned, config.defaultStorageConfig),
          extraStatus: (m, relevant) => moduleScanStatus(m, relevant),
        },
        { versions, versionResource, events },
      ),
      // A Version's progress changes its owner's status.
      watches: [{ informer: versions as never, map: ownerOf('Module') }],
      concurrency,
      metrics,
      logger: kubeLog,
    }),
    new Controller<Provider>({
      name: 'provider',
      informer: providers,
      reconcile: ownerReconciler(
        {
          kind: 'Provider',
          informer: providers,
          resource: providerResource,
          status: new StatusWriter(providerResource),
          plan: (p, owned) => planProvider(p, owned, config.defaultStorageConfig),
          extraStatus: (p, relevant, wanted) => ({ platforms: platformStatus(p, relevant, wanted) }),
        },
        { versions, versionResource, events },
      ),
      watches: [{ informer: versions as never, map: ownerOf('Provider') }],
      concurrency,
      metrics,
      logger: kubeLog,
    }),
    new Controller<Depot>({
      name: 'depot',
      informer: depots,
      reconcile: depotReconciler({
        depots,
        modules,
        providers,
        depotResource,
        moduleResource,
        providerResource,
        status: new StatusWriter(depotResource),
        events,
        sourceOf,
        concurrency,
      }),
      concurrency: Math.max(1, Math.floor(concurrency / 2)),
      metrics,
      logger: kubeLog,
    }),
    new Controller<Version>({
      name: 'version',
      informer: versions,
      reconcile: versionReconciler({
        versions,
        resource: versionResource,
        status: new StatusWriter(versionResource),
        events,
        storage,
        sourceFor,
        verifyIntervalMs: config.operator.verifyIntervalSeconds * 1000,
        scanning: { scanners: plugins.registry.instances('scanner'), blockSeverities: config.operator.scanning.blockSeverities },
        logger,
      }),
      concurrency,
      metrics,
      logger: kubeLog,
    }),
  ];

  const startControllers = async () => {
    for (const c of controllers) await c.start();
    logger.info('controllers started', { controllers: controllers.map((c) => c.name) });
  };
  let elector: LeaderElector | undefined;
  await Promise.all([modules.start(), providers.start(), depots.start(), versions.start()]);
  if (config.operator.leaderElection.enabled) {
    elector = new LeaderElector({
      client,
      namespace: ownNamespace,
      name: config.operator.leaderElection.leaseName,
      onStartedLeading: () => void startControllers().catch((err: unknown) => options.onFatal?.(err as Error)),
      onStoppedLeading: (why) => {
        if (why === 'lost') {
          for (const c of controllers) void c.stop({ timeoutMs: 0 } as never);
          options.onFatal?.(new Error('lost the operator Lease; exiting so that only one replica reconciles'));
        }
      },
      logger: kubeLog,
    });
    elector.start();
  } else {
    await startControllers();
  }
  const health = await startHealthServer({
    port: options.healthPort ?? 8081,
    ready: operatorReadiness([modules, providers, depots, versions] as never, elector),
    registry: metrics.registry,
  });

  return {
    health,
    client,
    async stop() {
      for (const c of controllers) await c.stop();
      await elector?.stop();
      modules.stop();
      providers.stop();
      depots.stop();
      versions.stop();
      await Promise.allSettled([...sources.values()].map((s) => s.close?.()));
      await egress.close();
      await plugins.close();
      await health.close();
      await client.close();
    },
  };
}


