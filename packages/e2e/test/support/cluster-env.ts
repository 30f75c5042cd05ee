/**
 * OpenDepot as users install it, for the cluster suite: the image built from the repository's
 * Dockerfile, imported into a real node (kubelet + containerd), and `charts/opendepot` installed
 * with the real `helm`. Reached the way a user reaches it: over HTTPS on the node's address
 * (a NodePort), with the real tofu.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  buildClusterSuiteImages,
  cliConfigText,
  createTestCertificates,
  ensureTool,
  kubectl,
  NODE_IP,
  runRegistryClient,
  startCluster,
  TEST_IMAGE_REPOSITORY,
  TEST_IMAGE_TAGS,
  waitFor,
  type ClientRun,
  type Cluster,
  type KubectlResult,
} from '@opendepot/testbed';
import { stringify } from 'yaml';

const execFileAsync = promisify(execFile);

export const CHART = fileURLToPath(new URL('../../../../charts/opendepot', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../../../examples', import.meta.url));
/** The hostname the client config maps to the NodePort. */
export const HOST = 'opendepot.test';
/** The release name; with it the chart names the Service `opendepot-server`, the name whose service links once broke start-up. */
export const RELEASE = 'opendepot';
export const NAMESPACE = 'opendepot';
/** The label that makes the API server enforce a Pod Security level in a namespace. */
export const POD_SECURITY_LABEL = 'pod-security.kubernetes.io/enforce';

/** The cluster with OpenDepot's images on its node. */
export interface ClusterEnv {
  cluster: Cluster;
  dir: string;
  caFile: string;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Applies objects (YAML) and fails on error. */
  apply(...objects: object[]): Promise<void>;
  get<T>(kind: string, name: string, namespace?: string): Promise<T>;
  /** Runs helm with the cluster's kubeconfig; rejects with its output on failure. */
  helm(args: string[], timeoutMs?: number): Promise<string>;
  /** `helm upgrade --install` of the chart with the base values, then `values` files (as objects) over them. */
  install(...values: object[]): Promise<{ ms: number; output: string }>;
  /** The server Service's NodePort (HTTPS). */
  nodePort(): Promise<number>;
  /** tofu against the installed registry (default args: init), with `extraEnv` (e.g. a `TF_TOKEN_<host>`). */
  tofu(mainTf: string, args?: string[], extraEnv?: NodeJS.ProcessEnv): Promise<ClientRun>;
  /** The registry's base URL on the node. */
  baseUrl(): Promise<string>;
  stop(): Promise<void>;
}

/** Builds (or reuses) the images, starts the cluster with them, and makes the TLS Secret. */
export async function startClusterEnv(): Promise<ClusterEnv> {
  const helmBin = await ensureTool('helm');
  const images = await buildClusterSuiteImages();
  const cluster = await startCluster({ pauseImageTar: images.pause, imageTars: [images.opendepot, images.withTrivy] });
  const dir = await mkdtemp(join(cluster.dir, 'env-'));
  const plane = { kubeconfigPath: cluster.kubeconfigPath };
  const run = (args: string[], input?: string) => kubectl(plane, args, { ...(input !== undefined && { input }), timeoutMs: 120_000 });
  const helmHome = join(dir, 'helm');
  const helm = async (args: string[], timeoutMs = 600_000): Promise<string> => {
    try {
      const { stdout, stderr } = await execFileAsync(helmBin, args, {
        timeout: timeoutMs,
        // HOME too: without it the kube client keeps its discovery cache in the working directory.
        env: { PATH: process.env.PATH, HOME: helmHome, KUBECONFIG: cluster.kubeconfigPath, HELM_CACHE_HOME: helmHome, HELM_CONFIG_HOME: helmHome, HELM_DATA_HOME: helmHome },
        maxBuffer: 32 * 1024 * 1024,
      });
      return stdout + stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.message}\n${e.stdout ?? ''}`);
    }
  };

  // HTTPS, because tofu talks to registries over HTTPS only: a CA of the test's own.
  const certs = await createTestCertificates({ hosts: [NODE_IP, HOST] });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.caPem);
  await writeFile(join(dir, 'tls.crt'), certs.certPem);
  await writeFile(join(dir, 'tls.key'), certs.keyPem);
  const must = async (args: string[], input?: string) => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };
  await must(['create', 'namespace', NAMESPACE]);
  // The chart must run under Pod Security "restricted": the real API server's PodSecurity
  // admission (on by default) enforces it in the install namespace.
  await must(['label', 'namespace', NAMESPACE, `${POD_SECURITY_LABEL}=restricted`, 'pod-security.kubernetes.io/enforce-version=latest']);
  await must(['create', 'secret', 'tls', 'opendepot-tls', '-n', NAMESPACE, `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
  // The chart's ReadWriteMany claim binds to a local volume on the node, as a NFS or CSI one would.
  // Its directory is root's (0755), as a fresh volume is: only the pods' fsGroup makes it writable
  // for uid 65532 (a local volume honours fsGroup; a hostPath one would not).
  const pvDir = join(cluster.dir, 'pv-data');
  await mkdir(pvDir, { recursive: true, mode: 0o755 });
  await chown(pvDir, 0, 0);
  await must(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'opendepot-data' },
      spec: {
        capacity: { storage: '20Gi' },
        accessModes: ['ReadWriteMany'],
        persistentVolumeReclaimPolicy: 'Retain',
        local: { path: pvDir },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [cluster.nodeName] }] }] } },
      },
    }),
  );

  const baseValues = {
    image: { repository: TEST_IMAGE_REPOSITORY, tag: TEST_IMAGE_TAGS.default, pullPolicy: 'Never' },
    server: { service: { type: 'NodePort' }, tls: { secretName: 'opendepot-tls' } },
  };
  let valuesCount = 0;
  const env: ClusterEnv = {
    cluster,
    dir,
    caFile,
    kubectl: run,
    async apply(...objects) {
      await must(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    },
    async get<T>(kind: string, name: string, namespace = NAMESPACE) {
      const r = await must(['get', kind, name, '-n', namespace, '-o', 'json']);
      return JSON.parse(r.stdout) as T;
    },
    helm,
    async install(...values) {
      const files: string[] = [];
      for (const v of [baseValues, ...values]) {
        const file = join(dir, `values-${valuesCount++}.yaml`);
        await writeFile(file, stringify(v));
        files.push(file);
      }
      const started = Date.now();
      try {
        const output = await helm(['upgrade', '--install', RELEASE, CHART, '-n', NAMESPACE, '--wait', '--timeout', '5m', ...files.flatMap((f) => ['-f', f])]);
        return { ms: Date.now() - started, output };
      } catch (err) {
        // What the pods were doing when helm gave up: the cause is there, not in helm's message.
        throw new Error(`${(err as Error).message}\n${await podDiagnostics(run)}`, { cause: err });
      }
    },
    async nodePort() {
      const r = await must(['get', 'service', `${RELEASE}-server`, '-n', NAMESPACE, '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      return Number(r.stdout);
    },
    async baseUrl() {
      return `https://${NODE_IP}:${await env.nodePort()}`;
    },
    async tofu(mainTf, args, extraEnv) {
      const base = await env.baseUrl();
      const cliConfig = join(dir, 'tofurc');
      await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${base}/opendepot/modules/v1/`, 'providers.v1': `${base}/opendepot/providers/v1/` }));
      return runRegistryClient('tofu', { parentDir: dir, cliConfig, caFile, mainTf, ...(args && { args }), ...(extraEnv && { env: extraEnv }) });
    },
    async stop() {
      await cluster.stop();
    },
  };
  return env;
}

/** The install namespace's pods, PVCs and recent events, and the logs of containers that are not ready. */
async function podDiagnostics(run: (args: string[]) => Promise<{ stdout: string; stderr: string }>): Promise<string> {
  const parts: string[] = [];
  const section = async (title: string, args: string[]) => {
    const r = await run(args).catch((e: unknown) => ({ stdout: '', stderr: String(e) }));
    parts.push(`--- ${title}\n${(r.stdout + r.stderr).trim().split('\n').slice(-60).join('\n')}`);
  };
  await section('pods', ['get', 'pods', '-n', NAMESPACE, '-o', 'wide']);
  await section('pvcs', ['get', 'pvc,pv', '-A']);
  await section('events', ['get', 'events', '-n', NAMESPACE, '--sort-by=.lastTimestamp']);
  const pods = JSON.parse((await run(['get', 'pods', '-n', NAMESPACE, '-o', 'json'])).stdout || '{"items":[]}') as {
    items: { metadata: { name: string }; status?: { containerStatuses?: { name: string; ready: boolean }[]; initContainerStatuses?: { name: string; ready: boolean }[] } }[];
  };
  for (const pod of pods.items) {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter((c) => !c.ready)) {
      await section(`logs ${pod.metadata.name}/${c.name}`, ['logs', '-n', NAMESPACE, pod.metadata.name, '-c', c.name, '--tail=40']);
    }
  }
  return parts.join('\n');
}

/** Waits until `check` holds, naming `what` (and the cluster's recent kubelet log) on timeout. */
export async function until(env: ClusterEnv, what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  try {
    await waitFor(what, check, timeoutMs, 1_000);
  } catch (err) {
    const pods = await env.kubectl(['get', 'pods', '-A', '-o', 'wide']);
    throw new Error(`${(err as Error).message}\npods:\n${pods.stdout}\nkubelet:\n${await env.cluster.logTail('kubelet', 15)}`);
  }
}
