/**
 * Assembles the operator: configuration, plugins and the storage resolver, the Kubernetes
 * client and informers, the Module, Provider, Depot, Version and GroupBinding controllers,
 * leader election and the probe and metrics endpoint. `startOperator` is what both the container
 * entry point and the local quickstart call.
 */
import {
  RESOURCES,
  CORE_RESOURCES,
  createInformer,
  createKubeClient,
  namespacesInformer,
  createLogger,
  defaultStorageReference,
  moduleStorageConfig,
  providerStorageConfig,
  resourceClient,
  startPluginHost,
  type HostConfig,
  type Informer,
  type KubeClient,
  type KubeObject,
  kubeLoggerOf,
  toCondition,
  type Depot,
  type GroupBinding,
  type Module,
  type Provider,
  type ResourceRef,
  type StorageConfig,
  type Version,
} from '@opendepot/core';
import { fileURLToPath } from 'node:url';
import type { ArchiveSource, Logger, StorageBackend } from '@opendepot/sdk';
import { depotReconciler } from './controllers/depot-controller.ts';
import { groupBindingReconciler } from './controllers/groupbinding-controller.ts';
import { moduleScanStatus, planModule } from './controllers/module-plan.ts';
import { ownerReconciler } from './controllers/owner-controller.ts';
import { planProvider, platformStatus } from './controllers/provider-plan.ts';
import { providerScanStatus } from './controllers/provider-scan.ts';
import { OWNER_KIND_LABEL } from './controllers/naming.ts';
import { versionReconciler } from './controllers/version-controller.ts';
import { scanDatabaseMetrics } from './controllers/scan-metrics.ts';
import { HclParser } from './module-docs/hcl-parser.ts';
import { Controller, EventRecorder, LeaderElector, StatusWriter, createRuntimeMetrics, defaultSpoolRoot, openSpool, operatorReadiness, startHealthServer, type HealthServer } from './runtime/index.ts';
import { FIRST_PARTY_SOURCES_PATH, firstPartySources } from './archive-sources/first-party.ts';
import { archiveSourcesOf } from './archive-sources/lookup.ts';
import { moduleSourceName, providerSourceName } from './controllers/source-names.ts';
import { DeadlineExceededError, namespaceCap, operatorLimits } from './limits.ts';

/** A storage temporary older than this cannot belong to a live leader (the Lease lasts 15 s). */
const STORAGE_SWEEP_GRACE_MS = 15_000;

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
  /** Root of the spool directories (downloads, repacks, scans), swept at start. Default: `opendepot-operator-spool` in the OS temp directory. */
  spoolRoot?: string;
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
  // Downloads and repacks spool here; what a killed operator left is removed first.
  const spool = await openSpool(options.spoolRoot ?? defaultSpoolRoot(), logger);
  // Auth plugins are the server's: the operator neither needs nor creates them (no OIDC discovery from here).
  // The first-party archive sources are offered by default, configured from the operator's keys.
  const plugins = await startPluginHost(config, {
    logger,
    readSecret: (name, key) => readSecret(name, key),
    hostDir: HOST_DIR,
    skipKinds: ['auth'],
    defaults: firstPartySources(config, spool.dir),
    defaultsPath: FIRST_PARTY_SOURCES_PATH,
    ...(options.baseDir && { baseDir: options.baseDir }),
  });
  const { storage } = plugins;
  // What a Version gets when its owner (and Depot) name no storage: the default profile, by name.
  const defaultStorage = defaultStorageReference(config);
  // An owner's storage is checked against the profiles before any Version exists: a refused
  // field stalls the owner with a message naming it, and no request is made.
  const checkStorage = (own: StorageConfig | undefined, nestedIn: 'moduleConfig' | 'providerConfig', topLevel: boolean): void => {
    try {
      storage.check(own ?? defaultStorage, own === undefined || topLevel ? 'spec.storageConfig' : `spec.${nestedIn}.storageConfig`);
    } catch (err) {
      throw new Error(toCondition(err).message, { cause: err });
    }
  };

  // Bounds on what an upstream can cost (issue 10 §2).
  const limits = operatorLimits(config.operator.limits);
  // Sources are plugins, found by name; an owner naming none of them is stalled before any Version exists.
  const sources = archiveSourcesOf(plugins.registry, readSecret);
  const sourceOf = (kind: 'module' | 'provider', name: string): ArchiveSource => sources.get(name, kind === 'module' ? 'spec.moduleConfig.source' : 'spec.providerConfig.source');
  const sourceFor = (version: Version): ArchiveSource =>
    version.spec.kind === 'Provider' ? sourceOf('provider', providerSourceName(version.spec.provider ?? {})) : sourceOf('module', moduleSourceName(version.spec.module!));
  const checkSource = (kind: 'module' | 'provider', name: string): void => {
    try {
      sourceOf(kind, name);
    } catch (err) {
      throw new Error(toCondition(err).message, { cause: err });
    }
  };

  // The namespaces told (each watched on its own: RBAC may allow no more), else the whole cluster.
  const watched = config.operator.watchNamespaces ?? [];
  const informerOf = <T extends KubeObject>(ref: ResourceRef): Informer<T> =>
    watched.length === 0 ? createInformer<T>(client, ref, { logger: kubeLog }) : namespacesInformer<T>(watched, (namespace) => createInformer<T>(client, ref, { namespace, logger: kubeLog }));
  const modules = informerOf<Module>(RESOURCES.module);
  const providers = informerOf<Provider>(RESOURCES.provider);
  const depots = informerOf<Depot>(RESOURCES.depot);
  const versions = informerOf<Version>(RESOURCES.version);
  const groupBindings = informerOf<GroupBinding>(RESOURCES.groupBinding);
  const moduleResource = resourceClient<Module>(client, RESOURCES.module, { fieldManager: 'opendepot-operator' });
  const depotResource = resourceClient<Depot>(client, RESOURCES.depot, { fieldManager: 'opendepot-operator' });
  const providerResource = resourceClient<Provider>(client, RESOURCES.provider, { fieldManager: 'opendepot-operator' });
  const versionResource = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'opendepot-operator' });
  const groupBindingResource = resourceClient<GroupBinding>(client, RESOURCES.groupBinding, { fieldManager: 'opendepot-operator' });
  const events = new EventRecorder({ client, component: 'opendepot-operator', logger: kubeLog });
  const metrics = createRuntimeMetrics();
  const scanDatabases = scanDatabaseMetrics(metrics.registry);
  // Module versions are documented (README, inputs, outputs) for the browse UI.
  const docsParser = new HclParser();
  const concurrency = config.operator.concurrency;
  // Every controller: a deadline per reconcile, and one namespace cannot hold every worker.
  const bounded = {
    maxPerNamespace: namespaceCap(limits, concurrency),
    timeoutMs: limits.reconcileTimeoutSeconds * 1000,
    timeoutReason: () => new DeadlineExceededError(limits.reconcileTimeoutSeconds),
  };

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
          plan: (m, owned) => {
            checkStorage(moduleStorageConfig(m.spec), 'moduleConfig', m.spec.storageConfig !== undefined);
            checkSource('module', moduleSourceName(m.spec.moduleConfig));
            return planModule(m, owned, defaultStorage);
          },
          extraStatus: (m, relevant) => moduleScanStatus(m, relevant),
        },
        { versions, versionResource, events },
      ),
      // A Version's progress changes its owner's status.
      watches: [{ informer: versions, map: ownerOf('Module') }],
      concurrency,
      ...bounded,
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
          plan: (p, owned) => {
            checkStorage(providerStorageConfig(p.spec), 'providerConfig', p.spec.storageConfig !== undefined);
            checkSource('provider', providerSourceName(p.spec.providerConfig));
            return planProvider(p, owned, defaultStorage);
          },
          extraStatus: (p, relevant, wanted) => ({ platforms: platformStatus(p, relevant, wanted), ...providerScanStatus(p, relevant) }),
        },
        { versions, versionResource, events },
      ),
      watches: [{ informer: versions, map: ownerOf('Provider') }],
      concurrency,
      ...bounded,
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
      ...bounded,
      maxPerNamespace: namespaceCap(limits, Math.max(1, Math.floor(concurrency / 2))),
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
        scanning: { scanners: plugins.registry.instances('scanner'), blockSeverities: config.operator.scanning.blockSeverities, onDatabase: scanDatabases.observe },
        docsParser,
        moduleSource: (name) => (sources.names().includes(name) ? sources.get(name, 'spec.providerConfig.sourceRepository') : undefined),
        spoolDir: spool.dir,
        providerZipLimits: { maxEntries: limits.providerZipMaxEntries, maxUncompressedBytes: limits.providerZipMaxUncompressedBytes },
        logger,
      }),
      concurrency,
      ...bounded,
      metrics,
      logger: kubeLog,
    }),
    // Compiling an expression takes microseconds and calls nothing upstream: one worker is plenty.
    new Controller<GroupBinding>({
      name: 'groupbinding',
      informer: groupBindings,
      reconcile: groupBindingReconciler({ groupBindings, status: new StatusWriter(groupBindingResource), events }),
      concurrency: 1,
      ...bounded,
      maxPerNamespace: 1,
      metrics,
      logger: kubeLog,
    }),
  ];

  // Leftovers of puts a killed operator left in storage. With leader election, anything a live
  // (previous) leader writes was touched within the lease duration; without, this is the only writer.
  const sweepGraceMs = config.operator.leaderElection.enabled ? STORAGE_SWEEP_GRACE_MS : 0;
  const sweepStorage = async () => {
    const backends = new Set<StorageBackend>();
    for (const storageConfig of [undefined, ...versions.list().map((v) => v.spec.storageConfig)]) {
      // A config that cannot be resolved is reported on its Version.
      const backend = await storage.resolve(storageConfig).catch(() => undefined);
      if (backend) backends.add(backend);
    }
    for (const backend of backends) {
      const result = await backend.sweepTemporaries?.({ olderThanMs: sweepGraceMs }).catch((err: unknown) => {
        logger.warn('sweeping storage temporaries failed; they stay until the next start', { err: String(err) });
        return undefined;
      });
      if (result) logger.info('swept storage temporaries', { removed: result.removed.length });
    }
  };
  const startControllers = async () => {
    void sweepStorage();
    for (const c of controllers) await c.start();
    logger.info('controllers started', { controllers: controllers.map((c) => c.name) });
  };
  let elector: LeaderElector | undefined;
  await Promise.all([modules.start(), providers.start(), depots.start(), versions.start(), groupBindings.start()]);
  if (config.operator.leaderElection.enabled) {
    elector = new LeaderElector({
      client,
      namespace: ownNamespace,
      name: config.operator.leaderElection.leaseName,
      onStartedLeading: () => void startControllers().catch((err: unknown) => options.onFatal?.(err as Error)),
      onStoppedLeading: (why) => {
        if (why === 'lost') {
          for (const c of controllers) void c.stop({ timeoutMs: 0 });
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
    ready: operatorReadiness([modules, providers, depots, versions, groupBindings], elector),
    registry: metrics.registry,
  });

  let stopping: Promise<void> | undefined;
  const stopAll = async () => {
    // Every step runs even when one fails (the spool is always removed); the first failure is logged.
    const steps: [string, () => unknown][] = [
      [
        'controllers',
        async () => {
          for (const c of controllers) await c.stop();
        },
      ],
      ['leader election', () => elector?.stop()],
      ['informers', () => [modules, providers, depots, versions, groupBindings].forEach((i) => i.stop())],
      ['plugins', () => plugins.close()],
      ['HCL parser', () => docsParser.close()],
      ['health server', () => health.close()],
      ['Kubernetes client', () => client.close()],
      ['spool', () => spool.close()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        logger.warn('stopping: a step failed; going on with the others', { step: what, err: String(err) });
      }
    }
  };
  return {
    health,
    client,
    // Once: stopping twice (two signals, a fatal error during a stop) waits for the first stop.
    stop: () => (stopping ??= stopAll()),
  };
}
