/**
 * A registry whose auth chain is the Kubernetes provider, against the real kube-apiserver, for the
 * tests and benchmarks that run the real clients with a ServiceAccount token: a fresh namespace,
 * in-memory informers over disk storage, modules packed as zips, a ServiceAccount whose Roles
 * grant `get` on named Modules and Providers, a token for it, a test CA and server certificate,
 * and a CLI config mapping a made-up host to a listening registry.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createKubeClient, type KubeClient, type Module, type Version } from '@opendepot/core';
import type { Logger } from '@opendepot/sdk';
import { cliConfigText, createTestCertificates, dropNamespace, freshNamespace, kubectlOk, useControlPlane, type ControlPlane } from '@opendepot/testbed';
import { createRegistryServer, kubernetesProvider, type ListeningServer, type RegistryServer, type SigningKey } from '../../src/index.ts';
import { DiskStorage } from './disk-storage.ts';
import { moduleKey, moduleResource, store, versionResource } from './fixtures.ts';
import { MemoryInformer } from './memory-informer.ts';

const execFileAsync = promisify(execFile);

/** The host the CLI config of {@link KubernetesAuthBed.cliConfig} maps to the registry. */
export const KUBERNETES_AUTH_HOST = 'opendepot.test';
/** `TF_TOKEN_<host>` of {@link KUBERNETES_AUTH_HOST}. */
export const KUBERNETES_AUTH_TOKEN_ENV = 'TF_TOKEN_opendepot_test';

/** What Roles grant the ServiceAccount: `get` on these Modules and Providers (by name). */
export interface Grants {
  modules?: string[];
  providers?: string[];
}

/** Options of {@link KubernetesAuthBed.registry}. */
export interface KubernetesRegistryOptions {
  logger: Logger;
  signingKey?: SigningKey;
  /** The Kubernetes provider's caches; `false`: no auth chain at all (anonymous access). */
  kubernetes: { cacheTtlSeconds: number; cacheMaxEntries: number } | false;
}

/** See the module comment. */
export interface KubernetesAuthBed {
  cp: ControlPlane;
  namespace: string;
  client: KubeClient;
  dir: string;
  storage: DiskStorage;
  modules: MemoryInformer<Module>;
  versions: MemoryInformer<Version>;
  /** The test CA and the server's certificate (loopback) and key. */
  caFile: string;
  tls: { certFile: string; keyFile: string };
  /** Adds Module `name` (provider `aws`) at 1.0.0, stored: a zip whose `main.tf` outputs its name. */
  addModule(name: string): Promise<void>;
  /** Creates ServiceAccount `ci` with Roles granting `grants`, and returns a token of it for `audience` (1 h). */
  serviceAccountToken(grants: Grants, audience: string): Promise<string>;
  /** A registry over the informers and storage; its Kubernetes provider accepts tokens for `audience`. */
  registry(audience: string, options: KubernetesRegistryOptions): RegistryServer;
  /** Writes a CLI config mapping {@link KUBERNETES_AUTH_HOST} to `listening` (modules.v1, providers.v1); returns its path. */
  cliConfig(listening: ListeningServer): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the bed in a fresh namespace named after `prefix`. */
export async function startKubernetesAuthBed(prefix: string): Promise<KubernetesAuthBed> {
  const cp = await useControlPlane();
  const namespace = await freshNamespace(cp, prefix);
  const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, userAgent: `opendepot-${prefix}` });
  const dir = await mkdtemp(join(tmpdir(), `opendepot-${prefix}-`));
  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  const certs = await createTestCertificates();
  const caFile = join(dir, 'ca.pem');
  const tls = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  await writeFile(caFile, certs.caPem);
  await writeFile(tls.certFile, certs.certPem);
  await writeFile(tls.keyFile, certs.keyPem);
  const k = (args: string[]) => kubectlOk(cp, args);

  return {
    cp,
    namespace,
    client,
    dir,
    storage,
    modules,
    versions,
    caFile,
    tls,
    async addModule(name) {
      const src = join(dir, 'src', name);
      await mkdir(src, { recursive: true });
      await writeFile(join(src, 'main.tf'), `output "name" {\n  value = "${name}"\n}\n`);
      const zip = join(dir, 'src', `${name}.zip`);
      await execFileAsync('zip', ['-q', '-X', '-r', zip, '.'], { cwd: src });
      const module = moduleResource({ name, namespace, provider: 'aws' });
      modules.put(module);
      versions.put(versionResource({ owner: module, version: '1.0.0', stored: await store(storage, moduleKey(module, '1.0.0'), await readFile(zip)) }));
    },
    async serviceAccountToken(grants, audience) {
      await k(['create', 'serviceaccount', 'ci', '-n', namespace]);
      for (const [kind, names] of [
        ['modules', grants.modules],
        ['providers', grants.providers],
      ] as const) {
        if (names === undefined || names.length === 0) continue;
        await k(['create', 'role', `${kind}-reader`, '-n', namespace, '--verb=get', `--resource=${kind}.opendepot.defdev.io`, ...names.map((n) => `--resource-name=${n}`)]);
        await k(['create', 'rolebinding', `ci-${kind}`, '-n', namespace, `--role=${kind}-reader`, `--serviceaccount=${namespace}:ci`]);
      }
      return (await k(['create', 'token', 'ci', '-n', namespace, '--audience', audience, '--duration', '1h'])).trim();
    },
    registry(audience, options) {
      const { kubernetes } = options;
      const registry: RegistryServer = createRegistryServer({
        informers: { modules, versions },
        resolveStorage: async () => storage,
        logger: options.logger,
        defaultMetrics: false,
        ...(options.signingKey && { signingKey: options.signingKey }),
        ...(kubernetes && {
          auth: {
            providers: [
              {
                name: 'kubernetes',
                provider: kubernetesProvider({
                  client,
                  audiences: [audience],
                  ...kubernetes,
                  onCache: (cache, result) => registry.metrics.authCacheLookups.inc({ cache, result }),
                }),
              },
            ],
          },
        }),
      });
      return registry;
    },
    async cliConfig(listening) {
      const path = join(dir, `cli-${new URL(listening.url).port}.tfrc`);
      await writeFile(path, cliConfigText(KUBERNETES_AUTH_HOST, { 'modules.v1': `${listening.url}/opendepot/modules/v1/`, 'providers.v1': `${listening.url}/opendepot/providers/v1/` }));
      return path;
    },
    async stop() {
      await client.close();
      await dropNamespace(cp, namespace, ['roles', 'rolebindings', 'serviceaccounts']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
