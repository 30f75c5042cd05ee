/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver on loopback with free
 * ports and an admin kubeconfig, started the way controller-runtime's envtest does it.
 * There is no controller-manager, so (as in envtest) there is no garbage collection and
 * namespaces never finish terminating: tests use fresh namespaces and clean up by name.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd } from './etcd.ts';
import { kubectl } from './kubectl.ts';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

/** A running (or shared) control plane. */
export interface ControlPlane {
  /** Admin kubeconfig (token auth, the serving CA embedded). */
  kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** Bearer token of the admin user (group system:masters). */
  token: string;
  /** PEM of the API server's serving CA. */
  caPem: string;
  /** Working directory with logs (`etcd.log`, `kube-apiserver.log`). */
  dir: string;
  /** Stops what this process started; a no-op for a shared control plane. */
  stop(): Promise<void>;
}

/** The repository's generated CRDs. */
export const DEFAULT_CRDS_DIR = resolve(fileURLToPath(new URL('../../../charts/opendepot/crds', import.meta.url)));

/** Options of {@link startControlPlane}. */
export interface StartOptions {
  /** Directory of CRD YAML to install; `false` to install none. Default: the chart's CRDs. */
  crdsDir?: string | false;
  /** Extra kube-apiserver flags. */
  extraApiServerArgs?: string[];
}

function httpsGet(url: string, ca: string | undefined, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { ca, rejectUnauthorized: ca !== undefined, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Starts etcd and kube-apiserver and installs the CRDs. Call `stop()` when done. */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const [etcdBin, apiserverBin] = await Promise.all([ensureTool('etcd'), ensureTool('kube-apiserver')]);
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-cp-'));
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(join(dir, 'etcd'));
    const { url: etcdUrl } = await startEtcd(join(dir, 'etcd'), join(dir, 'etcd.log'), { bin: etcdBin, onStart: (p) => started.push(p) });
    const apiPort = await freePort();

    const token = randomBytes(24).toString('hex');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);
    const certDir = join(dir, 'certs');
    await mkdir(certDir);
    const server = `https://127.0.0.1:${apiPort}`;
    started.push(
      startProcess(
        apiserverBin,
        [
          `--etcd-servers=${etcdUrl}`,
          `--cert-dir=${certDir}`,
          `--secure-port=${apiPort}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--authorization-mode=RBAC',
          '--disable-admission-plugins=ServiceAccount',
          `--service-account-issuer=${server}/`,
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          ...(options.extraApiServerArgs ?? []),
        ],
        { logFile: join(dir, 'kube-apiserver.log') },
      ),
    );
    const caFile = join(certDir, 'apiserver.crt');
    const apiserver = started[1]!;
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (apiserver.child.exitCode !== null) {
          const log = await readFile(join(dir, 'kube-apiserver.log'), 'utf8');
          throw new Error(`kube-apiserver exited: ${log.slice(-2000)}`);
        }
        if (!existsSync(caFile)) return false;
        const res = await httpsGet(`${server}/readyz`, await readFile(caFile, 'utf8'));
        return res.status === 200;
      },
      120_000,
      300,
    );
    // The generated serving certificate file holds the leaf followed by its self-signed CA.
    const caPem = await readFile(caFile, 'utf8');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, renderKubeconfig(server, caPem, token), { mode: 0o600 });
    const plane: ControlPlane = { kubeconfigPath, server, token, caPem, dir, stop };
    if (options.crdsDir !== false) await installCrds(plane, options.crdsDir ?? DEFAULT_CRDS_DIR);
    return plane;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** An admin kubeconfig for `server`, like envtest's, named `opendepot-test`. */
export function renderKubeconfig(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: opendepot-test
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: opendepot-test
  context:
    cluster: opendepot-test
    user: admin
current-context: opendepot-test
`;
}

/** Applies the CRDs in `dir` and waits until the API server serves them. */
export async function installCrds(plane: ControlPlane, dir: string): Promise<void> {
  const applied = await kubectl(plane, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  if (applied.code !== 0) throw new Error(`installing CRDs from ${dir} failed: ${applied.stderr}`);
  const waited = await kubectl(plane, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
  if (waited.code !== 0) throw new Error(`CRDs from ${dir} did not become Established: ${waited.stderr}`);
}

/** The environment variable through which the test runner shares one control plane. */
export const SHARED_KUBECONFIG_ENV = 'OPENDEPOT_TEST_KUBECONFIG';

/** Set by the test runner in every test process. */
export const TEST_RUNNER_ENV = 'OPENDEPOT_TEST_RUNNER';

/** Printed when a test file under the runner starts a control plane of its own: the runner warns. */
export const OWN_CONTROL_PLANE_MARK = '[testbed] no shared control plane: starting one of this file';

let own: Promise<ControlPlane> | undefined;

/**
 * The control plane for a test file: the runner's shared one when it started one (the test
 * must then work in its own namespaces), else one of this process's own, stopped at exit.
 */
export async function useControlPlane(): Promise<ControlPlane> {
  const shared = process.env[SHARED_KUBECONFIG_ENV];
  if (shared) {
    const text = await readFile(shared, 'utf8');
    const server = /server: (\S+)/.exec(text)?.[1] ?? '';
    const token = /token: (\S+)/.exec(text)?.[1] ?? '';
    const ca = /certificate-authority-data: (\S+)/.exec(text)?.[1] ?? '';
    return {
      kubeconfigPath: shared,
      server,
      token,
      caPem: Buffer.from(ca, 'base64').toString(),
      dir: resolve(shared, '..'),
      stop: async () => undefined,
    };
  }
  if (!own && process.env[TEST_RUNNER_ENV]) console.error(OWN_CONTROL_PLANE_MARK);
  own ??= startControlPlane().then((plane) => {
    process.once('beforeExit', () => void plane.stop());
    return plane;
  });
  return own;
}
