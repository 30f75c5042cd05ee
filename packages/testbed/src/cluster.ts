/**
 * A real single-node Kubernetes cluster for the tests that install the image and the chart:
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a kubelet with Debian's
 * containerd and runc, and kube-proxy, on a bridge of its own (`cni0`, 10.88.0.1/16) that has no
 * route beyond the machine. Everything listens on the bridge or on loopback, never on the
 * machine's external interface. All state lives in one temporary directory; `stop()` stops
 * every process by PID, removes the containers, and undoes every host network change.
 *
 * Needs root (containerd, iptables, a bridge). Notes on every flag: shared/docs/real-cluster.md.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { installCrds, renderKubeconfig, DEFAULT_CRDS_DIR } from './control-plane.ts';
import { startEtcd } from './etcd.ts';
import { kubectl } from './kubectl.ts';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

const execFileAsync = promisify(execFile);

/** The node's address: the bridge's gateway. The API server, kubelet and NodePorts bind here. */
export const NODE_IP = '10.88.0.1';
const POD_CIDR = '10.88.0.0/16';
const SERVICE_CIDR = '10.0.0.0/24';
const BRIDGE = 'cni0';
const NODE_NAME = 'opendepot-node';
const API_PORT = 6443;
/** The sandbox image containerd runs for every pod; the test bed builds it locally. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

const DIR_PREFIX = 'opendepot-cluster-';
const OWNER_FILE = 'owner.pid';
const CREATED_FILE = 'created-host-paths.json';
const HOST_PATHS = ['/var/lib/kubelet', '/usr/libexec/kubernetes', '/var/lib/cni', '/run/containerd', '/var/log/pods', '/var/log/containers', '/etc/cni'];

const INSTALL_HOST_PACKAGES = fileURLToPath(new URL('../tools/install-host-packages.sh', import.meta.url));

/** A running cluster. */
export interface Cluster {
  /** Admin kubeconfig (token of system:masters; the API server's CA embedded). */
  kubeconfigPath: string;
  /** `https://10.88.0.1:6443` */
  server: string;
  nodeIp: string;
  nodeName: string;
  /** The temporary directory with all state and every component's log. */
  dir: string;
  /** Imports a docker-archive image tar into the node's containerd (namespace k8s.io). */
  importImage(tarPath: string): Promise<void>;
  /** Gives an image on the node another tag (a "new release" of the same bytes). */
  tagImage(source: string, target: string): Promise<void>;
  /** The last `lines` lines of a component's log (`kubelet`, `containerd`, ...), for failure messages. */
  logTail(component: string, lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** docker-archive tar of the pause image, tagged {@link PAUSE_IMAGE}. */
  pauseImageTar: string;
  /** Image tars to import before the node registers. */
  imageTars?: string[];
  /** CRDs to install; `false` for none. Default: the chart's. */
  crdsDir?: string | false;
}

async function run(cmd: string, args: string[], options: { allowFail?: boolean; timeoutMs?: number } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    if (options.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

async function readSysctl(path: string): Promise<string> {
  return (await readFile(join('/proc/sys', path), 'utf8')).trim();
}

async function writeSysctl(path: string, value: string): Promise<void> {
  await writeFile(join('/proc/sys', path), value);
}

/** Installs the Debian packages the cluster needs when missing (apt-get; needs root). */
export async function ensureHostPackages(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [INSTALL_HOST_PACKAGES], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`installing the cluster's Debian packages failed (exit ${code})`))));
  });
}

/** The binaries of the cluster, built on first use like every test tool. */
export async function ensureClusterTools(): Promise<Record<'etcd' | 'apiserver' | 'controllerManager' | 'scheduler' | 'kubelet' | 'proxy' | 'coredns', string>> {
  const [etcd, apiserver, controllerManager, scheduler, kubelet, proxy, coredns] = await Promise.all([
    ensureTool('etcd'),
    ensureTool('kube-apiserver'),
    ensureTool('kube-controller-manager'),
    ensureTool('kube-scheduler'),
    ensureTool('kubelet'),
    ensureTool('kube-proxy'),
    ensureTool('coredns'),
  ]);
  return { etcd, apiserver, controllerManager, scheduler, kubelet, proxy, coredns };
}

/** Starts the cluster and waits until the node is Ready. Call `stop()` when done. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (process.getuid?.() !== 0) throw new Error('the real-cluster test bed needs root (containerd, iptables and a bridge); run the tests as root');
  await ensureHostPackages();
  const bins = await ensureClusterTools();
  await reclaimStaleClusters();
  if (existsSync(`/sys/class/net/${BRIDGE}`)) {
    throw new Error(`a network interface ${BRIDGE} already exists and belongs to a running cluster test bed (one per machine)`);
  }

  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  // Who owns this cluster: a later start reclaims it once this process is gone (SIGKILL leaves no time to stop).
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  const processes: ManagedProcess[] = [];
  const undo: Array<() => Promise<void>> = [];
  const logFile = (name: string) => join(dir, `${name}.log`);
  const netnsBefore = new Set(await listNetns());
  // What the kubelet, libcni and the shims write outside the temp dir whatever they are told;
  // recorded so that a reclaim after a SIGKILL removes them too.
  const createdHostPaths = HOST_PATHS.filter((p) => !existsSync(p));
  await writeFile(join(dir, CREATED_FILE), JSON.stringify(createdHostPaths));
  const containerdSock = join(dir, 'containerd.sock');
  const ctr = (args: string[], opts?: { allowFail?: boolean; timeoutMs?: number }) => run('ctr', ['--address', containerdSock, '--namespace', 'k8s.io', ...args], opts);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Components first (kubelet would restart what we remove), then the containers, then containerd.
    for (const p of [...processes].reverse()) {
      if (p === containerd) continue;
      await p.stop(10_000).catch(() => undefined);
    }
    if (containerd !== undefined && containerd.child.exitCode === null) {
      await removeAllContainers(ctr).catch(() => undefined);
      await containerd.stop(10_000).catch(() => undefined);
    }
    await killShims(containerdSock);
    await killPodProcesses();
    for (const step of undo.reverse()) await step().catch(() => undefined);
    for (const ns of await listNetns()) if (!netnsBefore.has(ns) && ns.startsWith('cni-')) await run('ip', ['netns', 'delete', ns], { allowFail: true });
    await unmountUnder(dir);
    for (const path of createdHostPaths) {
      await unmountUnder(path);
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  let containerd: ManagedProcess | undefined;

  try {
    // --- host network: the bridge, forwarding, and (on stop) kube-proxy's rules removed ---
    const forward = await readSysctl('net/ipv4/ip_forward');
    const localnet = await readSysctl('net/ipv4/conf/all/route_localnet');
    const bridgeNf = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') ? await readSysctl('net/bridge/bridge-nf-call-iptables') : undefined;
    undo.push(async () => {
      await writeSysctl('net/ipv4/ip_forward', forward);
      await writeSysctl('net/ipv4/conf/all/route_localnet', localnet);
      if (bridgeNf !== undefined) await writeSysctl('net/bridge/bridge-nf-call-iptables', bridgeNf).catch(() => undefined);
    });
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    undo.push(async () => void (await run('ip', ['link', 'delete', BRIDGE], { allowFail: true })));
    await run('ip', ['addr', 'add', `${NODE_IP}/16`, 'dev', BRIDGE]);
    await run('ip', ['link', 'set', BRIDGE, 'up']);
    await writeSysctl('net/ipv4/ip_forward', '1');
    // Service traffic between pods on the same bridge must pass through iptables (kube-proxy's DNAT).
    await run('modprobe', ['br_netfilter'], { allowFail: true });
    if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) await writeSysctl('net/bridge/bridge-nf-call-iptables', '1');
    undo.push(() => cleanIptables(bins.proxy));

    // --- containerd with the CRI plugin, CNI bridge without a default route ---
    const cniConf = join(dir, 'cni', 'net.d');
    await mkdir(cniConf, { recursive: true });
    await writeFile(join(cniConf, '10-opendepot.conflist'), JSON.stringify(cniConfig(join(dir, 'cni', 'ipam')), null, 2));
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(dir, containerdSock, cniConf));
    containerd = startProcess('containerd', ['--config', join(dir, 'containerd.toml')], { logFile: logFile('containerd') });
    processes.push(containerd);
    await waitFor(
      'containerd',
      async () => {
        if (containerd!.child.exitCode !== null) throw new Error(`containerd exited: ${await tail(logFile('containerd'))}`);
        return (await ctr(['version'], { allowFail: true, timeoutMs: 5_000 })) !== '';
      },
      30_000,
      250,
    );
    for (const tar of [options.pauseImageTar, ...(options.imageTars ?? [])]) await importInto(ctr, tar);

    // --- etcd and the API server ---
    const { url: etcdUrl } = await startEtcd(join(dir, 'etcd'), logFile('etcd'), { bin: bins.etcd, onStart: (p) => processes.push(p) });

    const token = randomBytes(24).toString('hex');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const certDir = join(dir, 'apiserver-certs');
    await mkdir(certDir);
    const server = `https://${NODE_IP}:${API_PORT}`;
    const apiserver = startProcess(
      bins.apiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${certDir}`,
        `--bind-address=${NODE_IP}`,
        `--advertise-address=${NODE_IP}`,
        `--secure-port=${API_PORT}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--allow-privileged=true',
        '--authorization-mode=Node,RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        // Without it, `kubectl logs` resolves the node's name through DNS, off the machine.
        '--kubelet-preferred-address-types=InternalIP',
      ],
      { logFile: logFile('kube-apiserver') },
    );
    processes.push(apiserver);
    const caFile = join(certDir, 'apiserver.crt');
    await waitFor(
      'kube-apiserver to write its certificate',
      async () => {
        if (apiserver.child.exitCode !== null) throw new Error(`kube-apiserver exited: ${await tail(logFile('kube-apiserver'))}`);
        return existsSync(caFile);
      },
      120_000,
      300,
    );
    // The generated serving certificate file holds the leaf followed by its self-signed CA: a
    // bundle that verifies the API server both at 10.88.0.1 and at the `kubernetes` Service IP.
    const caPem = await readFile(caFile, 'utf8');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, renderKubeconfig(server, caPem, token), { mode: 0o600 });
    const plane = { kubeconfigPath };
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (apiserver.child.exitCode !== null) throw new Error(`kube-apiserver exited: ${await tail(logFile('kube-apiserver'))}`);
        return (await kubectl(plane, ['get', '--raw', '/readyz'], { timeoutMs: 10_000 })).stdout.trim() === 'ok';
      },
      120_000,
      500,
    );

    // --- controller-manager (ServiceAccounts, Deployments, PV binding) and scheduler ---
    const [kcmPort, schedPort, kubeletHealthPort, proxyHealthPort, proxyMetricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    processes.push(
      startProcess(
        bins.controllerManager,
        [
          `--kubeconfig=${kubeconfigPath}`,
          '--leader-elect=false',
          `--root-ca-file=${caFile}`,
          `--service-account-private-key-file=${join(dir, 'sa.key')}`,
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          '--use-service-account-credentials=false',
        ],
        { logFile: logFile('kube-controller-manager') },
      ),
    );
    processes.push(
      startProcess(bins.scheduler, [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${schedPort}`], { logFile: logFile('kube-scheduler') }),
    );

    // --- cluster DNS: CoreDNS on the node's address, Service names only (nothing beyond the machine) ---
    await writeFile(join(dir, 'Corefile'), corefile(kubeconfigPath));
    processes.push(startProcess(bins.coredns, ['-conf', join(dir, 'Corefile')], { logFile: logFile('coredns') }));

    // --- kubelet ---
    const kubeletDir = join(dir, 'kubelet');
    await mkdir(join(dir, 'pod-logs'), { recursive: true });
    await writeFile(join(dir, 'kubelet.yaml'), kubeletConfig(containerdSock, kubeletHealthPort, join(dir, 'pod-logs')));
    const kubelet = startProcess(
      bins.kubelet,
      [
        `--config=${join(dir, 'kubelet.yaml')}`,
        `--kubeconfig=${kubeconfigPath}`,
        `--root-dir=${kubeletDir}`,
        `--cert-dir=${join(dir, 'kubelet-pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${NODE_IP}`,
        '--v=1',
      ],
      { logFile: logFile('kubelet') },
    );
    processes.push(kubelet);

    // --- kube-proxy: the `kubernetes` Service (10.0.0.1) and every other Service ---
    processes.push(
      startProcess(
        bins.proxy,
        [
          `--kubeconfig=${kubeconfigPath}`,
          '--proxy-mode=iptables',
          `--cluster-cidr=${POD_CIDR}`,
          '--conntrack-max-per-core=0',
          `--hostname-override=${NODE_NAME}`,
          `--bind-address=${NODE_IP}`,
          `--nodeport-addresses=${NODE_IP}/32`,
          `--metrics-bind-address=127.0.0.1:${proxyMetricsPort}`,
          `--healthz-bind-address=127.0.0.1:${proxyHealthPort}`,
        ],
        { logFile: logFile('kube-proxy') },
      ),
    );

    await waitFor(
      'the node to be Ready',
      async () => {
        if (kubelet.child.exitCode !== null) throw new Error(`kubelet exited: ${await tail(logFile('kubelet'))}`);
        const r = await kubectl(plane, ['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return r.stdout.trim() === 'True';
      },
      180_000,
      1_000,
    );
    await waitFor('the default ServiceAccount', async () => (await kubectl(plane, ['get', 'serviceaccount', 'default', '-n', 'default'])).code === 0, 60_000, 500);
    const crds = options.crdsDir ?? DEFAULT_CRDS_DIR;
    if (crds !== false) await installCrds({ kubeconfigPath, server, token, caPem, dir, stop: async () => undefined }, crds);

    return {
      kubeconfigPath,
      server,
      nodeIp: NODE_IP,
      nodeName: NODE_NAME,
      dir,
      importImage: (tar) => importInto(ctr, tar),
      tagImage: async (source, target) => void (await ctr(['images', 'tag', '--force', source, target])),
      logTail: (component, lines) => tail(logFile(component), lines),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * Removes what a cluster test bed whose owner process died left behind (the runner SIGKILLs a
 * test file that times out): its processes, its pods' processes, mounts, network namespaces,
 * the bridge, kube-proxy's rules and its directory. A no-op when there is none.
 */
export async function reclaimStaleClusters(): Promise<void> {
  const stale: string[] = [];
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '0'));
    if (owner > 0 && isAlive(owner)) continue;
    stale.push(dir);
  }
  if (stale.length === 0) return;
  for (const dir of stale) {
    for (const pid of await pidsWithArg(dir)) kill(pid);
  }
  await killPodProcesses();
  for (const ns of await listNetns()) if (ns.startsWith('cni-')) await run('ip', ['netns', 'delete', ns], { allowFail: true });
  const proxy = await ensureTool('kube-proxy').catch(() => undefined);
  if (proxy !== undefined) await cleanIptables(proxy);
  await run('ip', ['link', 'delete', BRIDGE], { allowFail: true });
  for (const dir of stale) {
    await unmountUnder(dir);
    const created = JSON.parse(await readFile(join(dir, CREATED_FILE), 'utf8').catch(() => '[]')) as string[];
    for (const path of created.filter((p) => HOST_PATHS.includes(p))) {
      await unmountUnder(path);
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** PIDs whose command line mentions `text` (our components all name their directory). */
async function pidsWithArg(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Kills every process in the kubelet's pod cgroups and removes those cgroups: containers
 * outlive a killed containerd-shim, reparented to init.
 */
async function killPodProcesses(): Promise<void> {
  const roots = (await readdir('/sys/fs/cgroup').catch(() => [] as string[])).map((c) => join('/sys/fs/cgroup', c, 'kubepods')).filter((p) => existsSync(p));
  for (let round = 0; round < 3; round++) {
    for (const root of roots) {
      for (const file of await cgroupFiles(root, 'cgroup.procs')) {
        for (const pid of (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)) kill(Number(pid));
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const root of roots) {
    const dirs = (await cgroupFiles(root, 'cgroup.procs')).map((f) => join(f, '..')).sort((a, b) => b.length - a.length);
    for (const d of dirs) await run('rmdir', [d], { allowFail: true });
  }
}

async function cgroupFiles(root: string, name: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return [join(root, name), ...entries.filter((e) => String(e).endsWith(`/${name}`)).map((e) => join(root, String(e)))].filter((f) => existsSync(f));
}

async function importInto(ctr: (args: string[], o?: { allowFail?: boolean; timeoutMs?: number }) => Promise<string>, tar: string): Promise<void> {
  await ctr(['images', 'import', '--no-unpack=false', tar], { timeoutMs: 600_000 });
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

async function listNetns(): Promise<string[]> {
  return readdir('/var/run/netns').catch(() => []);
}

/** Kills and deletes every task and container of the k8s.io namespace (pods' and sandboxes'). */
async function removeAllContainers(ctr: (args: string[], o?: { allowFail?: boolean; timeoutMs?: number }) => Promise<string>): Promise<void> {
  const ids = (await ctr(['containers', 'list', '-q'], { allowFail: true })).split('\n').filter(Boolean);
  for (const id of ids) await ctr(['tasks', 'kill', '-s', 'SIGKILL', id], { allowFail: true });
  for (const id of ids) {
    await ctr(['tasks', 'delete', '-f', id], { allowFail: true });
    await ctr(['containers', 'delete', id], { allowFail: true });
  }
}

/** containerd-shim processes that served our socket outlive containerd; they hold mounts. */
async function killShims(sock: string): Promise<void> {
  const out = await run('pgrep', ['-f', `containerd-shim.*${sock}`], { allowFail: true });
  for (const pid of out.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Lazily unmounts everything mounted below `dir` (overlay snapshots, pod volumes), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m?.startsWith(`${dir}/`) === true);
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m], { allowFail: true });
}

/** Removes kube-proxy's rules (its own cleanup, then any KUBE-* chain left). */
async function cleanIptables(proxyBin: string): Promise<void> {
  await run(proxyBin, ['--cleanup'], { allowFail: true, timeoutMs: 30_000 });
  for (const table of ['nat', 'filter', 'mangle']) {
    const rules = await run('iptables-save', ['-t', table], { allowFail: true });
    for (const line of rules.split('\n')) {
      // Jumps from built-in chains into KUBE-* chains: delete the rule (the -A line as -D).
      const jump = /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) (.*-j KUBE-\S+.*)$/.exec(line);
      if (jump) await run('sh', ['-c', `iptables -t ${table} -D ${jump[1]} ${jump[2]}`], { allowFail: true });
    }
    const chains = rules
      .split('\n')
      .map((l) => /^:(KUBE-\S+)/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined);
    for (const c of chains) await run('iptables', ['-t', table, '-F', c], { allowFail: true });
    for (const c of chains) await run('iptables', ['-t', table, '-X', c], { allowFail: true });
  }
}

function cniConfig(ipamDir: string): unknown {
  return {
    cniVersion: '1.0.0',
    name: 'opendepot',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]],
          // Only the service range: pods reach the node and Services, nothing beyond the machine.
          routes: [{ dst: SERVICE_CIDR }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

function containerdConfig(dir: string, sock: string, cniConfDir: string): string {
  return `version = 2
root = "${join(dir, 'containerd', 'root')}"
state = "${join(dir, 'containerd', 'state')}"

[grpc]
  address = "${sock}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  disable_apparmor = true
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below the parent's.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`;
}

/** Cluster DNS as every real cluster has it (Service and pod names), and NXDOMAIN for the rest. */
function corefile(kubeconfigPath: string): string {
  return `cluster.local:53 in-addr.arpa:53 {
    bind ${NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${kubeconfigPath} opendepot-test
        pods insecure
    }
}
.:53 {
    bind ${NODE_IP}
    template ANY ANY . {
        rcode NXDOMAIN
    }
}
`;
}

function kubeletConfig(sock: string, healthzPort: number, podLogsDir: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://${sock}
address: ${NODE_IP}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthzPort}
podLogsDir: ${podLogsDir}
clusterDNS: [${NODE_IP}]
clusterDomain: cluster.local
# The API server reaches the kubelet (logs, port-forward) on the test bridge only.
authentication:
  anonymous: { enabled: true }
  webhook: { enabled: false }
authorization: { mode: AlwaysAllow }
evictionHard: { nodefs.available: "1%", imagefs.available: "1%", memory.available: "100Mi" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
volumePluginDir: ${join(podLogsDir, '..', 'volume-plugins')}
`;
}
