/**
 * A whole OpenDepot against real components for end-to-end tests: the shared real
 * kube-apiserver (a fresh namespace), the operator and the server started from configuration
 * with the filesystem storage plugin, HTTPS with a test CA, and a CLI config for the real clients.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type HostConfig } from '@opendepot/core';
import { startServer, type RunningServer } from '@opendepot/server';
import {
  cliConfigText,
  createTestCertificates,
  dropNamespace,
  eventually as eventuallyWithin,
  freshNamespace,
  kubectl,
  runRegistryClient,
  useControlPlane,
  type ClientRun,
  type ControlPlane,
} from '@opendepot/testbed';
import { stringify } from 'yaml';
import { deepMerge } from './deep-merge.ts';
import { startOperator, type RunningOperator } from '@opendepot/operator';

/** The hostname the client config maps to the test server. */
export const HOST = 'opendepot.test';
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** A running registry for one test file. */
export interface RegistryEnv {
  cp: ControlPlane;
  namespace: string;
  /** A second watched namespace, when {@link RegistryEnvOptions.otherNamespace} asked for one. */
  otherNamespace: string | undefined;
  dir: string;
  storagePath: string;
  /** The running operator (a new one after {@link RegistryEnv.restartOperator}). */
  readonly operator: RunningOperator;
  /** Stops the operator and starts another with `overrides` (instead of the start options' config) over the defaults. */
  restartOperator(overrides: Record<string, unknown>, meanwhile?: () => Promise<void>): Promise<void>;
  server: RunningServer;
  cliConfig: string;
  caFile: string;
  /** Log lines of the operator and server, parsed. */
  logs: Record<string, unknown>[];
  kubectl(args: string[], input?: string): ReturnType<typeof kubectl>;
  /** Applies objects (as YAML) in the test namespace. */
  apply(...objects: object[]): Promise<void>;
  /** Gets one object as JSON. */
  get<T>(kind: string, name: string): Promise<T>;
  /** Runs tofu or terraform with `mainTf` in a fresh directory (default args: init). */
  client(tool: 'tofu' | 'terraform', mainTf: string, args?: string[], extraEnv?: NodeJS.ProcessEnv): Promise<ClientRun>;
  /** The blob file holding the stored object of `key` (plugin-fs layout). */
  blobOf(key: string): Promise<string>;
  stop(): Promise<void>;
}

/** Options of {@link startRegistryEnv}. */
export interface RegistryEnvOptions {
  /** Extra configuration merged over the defaults (YAML-able). */
  config?: Record<string, unknown>;
  verifyIntervalSeconds?: number;
  /** Files to write into the environment's directory first (name → content), e.g. keys. */
  files?: Record<string, string>;
  /** Also create a second namespace, served too (tests of what one namespace can do to another); the operator watches it after `restartOperator({ operator: { watchNamespaces: [it] } })`. */
  otherNamespace?: boolean;
  /** Extra `server:` configuration, given the environment's directory. */
  serverConfig?: (dir: string) => Record<string, unknown>;
}

/** Starts the operator and the server against the shared control plane. */
export async function startRegistryEnv(options: RegistryEnvOptions = {}): Promise<RegistryEnv> {
  const cp = await useControlPlane();
  const namespace = await freshNamespace(cp, 'e2e');
  const otherNamespace = options.otherNamespace ? await freshNamespace(cp, 'e2e-other') : undefined;
  const watched = [namespace, ...(otherNamespace ? [otherNamespace] : [])];
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-e2e-'));
  const storagePath = join(dir, 'storage');
  const certs = await createTestCertificates();
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content, { mode: 0o600 });

  const base = {
    logLevel: 'debug',
    namespace,
    allowFileUrls: true,
    plugins: [{ package: '@opendepot/plugin-fs' }],
    // Storage is platform policy: one filesystem profile, the default; tests add profiles.
    storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: storagePath } } } },
    server: { port: 0, metricsPort: 0, host: '127.0.0.1', tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, ...options.serverConfig?.(dir) },
    operator: {
      concurrency: 4,
      leaderElection: { enabled: true, leaseName: `opendepot-${namespace}` },
      // One namespace: with several the operator watches every namespace of the shared control plane.
      watchNamespaces: [namespace],
      verifyIntervalSeconds: options.verifyIntervalSeconds ?? 600,
      // The upstream stand-ins are on loopback, which the operator refuses unless allowed.
      egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] },
    },
  };
  const configWith = (overrides: Record<string, unknown>) => parseConfig(stringify(deepMerge(base, overrides)), { baseDir: packageDir }).config;
  const config = configWith(options.config ?? {});
  const logs: Record<string, unknown>[] = [];
  runningLogs.add(logs);
  const destination = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const { createLogger } = await import('@opendepot/core');
  const operatorWith = (c: typeof config) =>
    startOperator({
      config: c as HostConfig,
      kubeconfigPath: cp.kubeconfigPath,
      baseDir: packageDir,
      healthPort: 0,
      // Its own spool root: the start-up sweep never meets another test's operator.
      spoolRoot: join(dir, 'spool'),
      logger: createLogger({ level: 'debug', name: 'operator', destination }),
    });
  let operator = await operatorWith(config);
  const server = await startServer({
    config: { ...config, operator: { ...config.operator, watchNamespaces: watched } } as HostConfig,
    kubeconfigPath: cp.kubeconfigPath,
    baseDir: packageDir,
    logger: createLogger({ level: 'debug', name: 'server', destination }),
  });
  await server.synced;
  const cliConfig = join(dir, 'cli.tfrc');
  await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${server.listening.url}/opendepot/modules/v1/`, 'providers.v1': `${server.listening.url}/opendepot/providers/v1/` }));

  const k = (args: string[], input?: string) => kubectl(cp, args, input === undefined ? {} : { input });
  return {
    cp,
    namespace,
    otherNamespace,
    dir,
    storagePath,
    get operator() {
      return operator;
    },
    async restartOperator(overrides, meanwhile) {
      await operator.stop();
      await meanwhile?.();
      operator = await operatorWith(configWith(overrides));
    },
    server,
    cliConfig,
    caFile,
    logs,
    kubectl: k,
    async apply(...objects) {
      const yaml = objects.map((o) => stringify(o)).join('---\n');
      const r = await k(['apply', '-n', namespace, '-f', '-'], yaml);
      if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
    },
    async get<T>(kind: string, name: string) {
      const r = await k(['get', '-n', namespace, kind, name, '-o', 'json']);
      if (r.code !== 0) throw new Error(`kubectl get ${kind} ${name}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    client: (tool, mainTf, args, extraEnv) => runRegistryClient(tool, { parentDir: dir, cliConfig, caFile, mainTf, ...(args && { args }), ...(extraEnv && { env: extraEnv }) }),
    async blobOf(key) {
      const at = key.lastIndexOf('/');
      const folder = join(storagePath, key.slice(0, at));
      const name = key.slice(at + 1);
      // Exactly `<name>.<16 hex>.blob` (plugin-fs layout), not a blob of a longer name beside it.
      const blob = (await readdir(folder)).find((f) => f.startsWith(`${name}.`) && /^\.[0-9a-f]{16}\.blob$/.test(f.slice(name.length)));
      if (!blob) throw new Error(`no blob of ${key} in ${folder}`);
      return join(folder, blob);
    },
    async stop() {
      await server.stop();
      await operator.stop();
      await dropNamespace(cp, namespace);
      if (otherNamespace) await dropNamespace(cp, otherNamespace);
      await rm(dir, { recursive: true, force: true });
      runningLogs.delete(logs);
    },
  };
}

/** The logs of the environments running in this process, for the story of a timeout. */
const runningLogs = new Set<Record<string, unknown>[]>();
const TIMEOUT_STORY_LINES = 40;

/**
 * The test bed's `eventually`, with the patience an operator round trip needs (60 s, polling every
 * 250 ms). A timeout carries the last warnings and errors of the operator and server, because
 * that is what explains a wait that never ended, and the CI log is all there is afterwards.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  try {
    return await eventuallyWithin(what, check, timeoutMs, 250);
  } catch (err) {
    const story = [...runningLogs].flatMap((logs) => logs.filter((l) => l.level === 'warn' || l.level === 'error' || l.level === 'fatal'));
    if (story.length === 0 || !(err instanceof Error)) throw err;
    const lines = story.slice(-TIMEOUT_STORY_LINES).map((l) => JSON.stringify(l).slice(0, 400));
    err.message += `\n  last ${lines.length} warnings and errors of the operator and server:\n    ${lines.join('\n    ')}`;
    throw err;
  }
}
