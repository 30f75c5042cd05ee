/** Builders of Module and Version resources, and a server wired to in-memory informers. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, moduleStorageKey, type Module, type StorageConfig, type Version } from '@opendepot/core';
import type { StorageBackend } from '@opendepot/sdk';
import { createRegistryServer, type ListenOptions, type RegistryServer, type RegistryServerOptions, type SigningKey } from '../../src/index.ts';
import { DiskStorage } from './disk-storage.ts';
import { MemoryInformer } from './memory-informer.ts';

export const NS = 'opendepot-system';
const API_VERSION = 'opendepot.defdev.io/v1alpha1' as const;

export function moduleResource(options: { name: string; moduleName?: string; provider?: string; namespace?: string; created?: string }): Module {
  return {
    apiVersion: API_VERSION,
    kind: 'Module',
    metadata: {
      name: options.name,
      namespace: options.namespace ?? NS,
      uid: `uid-${options.name}`,
      creationTimestamp: options.created ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      moduleConfig: { name: options.moduleName ?? options.name, provider: options.provider ?? 'aws', repoUrl: 'https://example.test/repo.git' },
    },
  };
}

export interface StoredArchive {
  checksum: string;
  size: number;
  storageKey: string;
}

type Conditions = NonNullable<NonNullable<Version['status']>['conditions']>;

export function condition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = ''): Conditions[number] {
  return { type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' };
}

export function versionResource(options: {
  owner: Module;
  version: string;
  /** Present: Ready with this record (without a key: the derived one); absent: still fetching. */
  stored?: Omit<StoredArchive, 'storageKey'> & { storageKey?: string };
  conditions?: Conditions;
  fileFormat?: 'zip' | 'tar.gz';
  storageConfig?: StorageConfig;
  name?: string;
}): Version {
  const { owner } = options;
  const config = owner.spec.moduleConfig;
  const ready = options.stored !== undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'Version',
    metadata: {
      name: options.name ?? `${owner.metadata.name}-${options.version.replace(/^v/, '').replace(/[.+]/g, '-')}`,
      namespace: owner.metadata.namespace!,
      uid: `uid-${owner.metadata.name}-${options.version}`,
    },
    spec: {
      kind: 'Module',
      ownerName: owner.metadata.name!,
      version: options.version,
      module: { name: config.name, provider: config.provider, repoUrl: config.repoUrl },
      fileFormat: options.fileFormat ?? 'zip',
      storageConfig: options.storageConfig ?? { filesystem: { path: '/data' } },
    },
    status: {
      conditions: options.conditions ?? (ready ? [condition('Ready', 'True', 'ArchiveStored', 'stored and verified')] : [condition('Ready', 'False', 'Fetching', 'fetching the archive')]),
      ...(options.stored && { storageKey: moduleKey(owner, options.version, options.fileFormat), ...options.stored }),
    },
  };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The key the operator derives for `version` of `owner` (the server serves no other). */
export function moduleKey(owner: Module, version: string, fileFormat: 'zip' | 'tar.gz' = 'zip'): string {
  const config = owner.spec.moduleConfig;
  return moduleStorageKey(owner.metadata.namespace!, config.name, config.provider, version, fileFormat);
}

/** Stores bytes and returns what the operator would record on the Version. */
export async function store(storage: StorageBackend, key: string, data: Uint8Array): Promise<StoredArchive> {
  const info = await storage.put(
    key,
    (async function* () {
      yield data;
    })(),
  );
  return { checksum: info.sha256, size: info.size, storageKey: key };
}

/** A server on 127.0.0.1 over HTTP, answering from in-memory informers and a real disk storage. */
export interface TestRegistry {
  url: string;
  /** Base URL of the metrics listener (`/metrics` is not on {@link TestRegistry.url}). */
  metricsUrl: string;
  registry: RegistryServer;
  modules: MemoryInformer<Module>;
  versions: MemoryInformer<Version>;
  storage: DiskStorage;
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Runs `run` against a fresh registry, closed afterwards whatever happens. */
export async function withTestRegistry(run: (r: TestRegistry) => Promise<void>, options?: Parameters<typeof startTestRegistry>[0]): Promise<void> {
  const r = await startTestRegistry(options);
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

export async function startTestRegistry(
  options: {
    synced?: boolean;
    resolveStorage?: (storage: DiskStorage) => (config: StorageConfig | undefined) => Promise<StorageBackend>;
    signingKey?: SigningKey;
    defaultPresign?: NonNullable<StorageConfig['presign']>;
    externalUrl?: string;
    trustedProxies?: string[];
    limits?: ListenOptions['limits'];
    auth?: RegistryServerOptions['auth'];
    grants?: RegistryServerOptions['grants'];
  } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-server-'));
  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>([], { synced: options.synced ?? true });
  const versions = new MemoryInformer<Version>([], { synced: options.synced ?? true });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'opendepot-server', level: 'debug', destination: { write: (line: string) => logs.push(JSON.parse(line)) } });
  const registry = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: options.resolveStorage?.(storage) ?? (async () => storage),
    logger,
    defaultMetrics: false,
    ...(options.signingKey && { signingKey: options.signingKey }),
    ...(options.defaultPresign && { defaultPresign: options.defaultPresign }),
    ...(options.externalUrl && { externalUrl: options.externalUrl }),
    ...(options.trustedProxies && { trustedProxies: options.trustedProxies }),
    ...(options.auth && { auth: options.auth }),
    ...(options.grants && { grants: options.grants }),
  });
  const listening = await registry.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100, ...(options.limits && { limits: options.limits }) });
  const metricsListening = await registry.listenMetrics({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });
  return {
    url: listening.url,
    metricsUrl: metricsListening.url,
    registry,
    modules,
    versions,
    storage,
    logs,
    async close() {
      registry.dispose();
      await Promise.all([listening.close(), metricsListening.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
