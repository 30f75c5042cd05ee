/**
 * Issue 10 §2 acceptance, with the operator's memory measured alone: the operator runs as its own
 * process from its real entry point (packages/operator/src/main.ts --config), with the chart's
 * configuration (values.yaml `config`: concurrency 4, the filesystem storage profile) and node
 * flags (`operator.nodeArgs`), only pointed at this test's namespaces, storage root and loopback stand-ins, and
 * with shorter upstream timeouts so it ends soon. All at once, in one namespace:
 * - the signed zip bomb: its Version ends Stalled (LimitExceeded);
 * - the provider whose four platform zips drip: each Version ends Stalled (UpstreamTooSlow);
 * - the module repository with 19,990 symlinks and four tags: its four Versions end Ready;
 * and meanwhile a Module in another namespace ends Ready. The operator's peak resident set
 * (VmHWM) stays under the chart's operator memory limit, and the operator is still running at the
 * end. Figures are printed for the note. It runs from source (--conditions=opendepot-source),
 * which costs more than the image's compiled dist/main.js (idle 131 vs 102 MiB here): the bound is
 * conservative.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropNamespace, freePort, freshNamespace, kubectl, startProcess, useControlPlane, waitFor, type ControlPlane, type ManagedProcess } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { readChartOperator, type ChartOperator } from './support/chart-values.ts';
import { deepMerge } from './support/deep-merge.ts';
import { calmModule, createManyLinksRepo, DRIP_PLATFORMS, hostileProviders, LINK_VERSIONS, manyLinksModule, startHostileReleases, type HostileReleases } from './support/hostile-upstreams.ts';
import { mib, sampleProcessMemory, type MemorySampler } from './support/process-memory.ts';
import type { Condition } from './support/resources.ts';

const OPERATOR_MAIN = fileURLToPath(new URL('../../operator/src/main.ts', import.meta.url));
/** How long the whole attack may take before the test fails (each outcome's time is printed). */
const BOUND_MS = 360_000;
const limits = { upstreamIdleTimeoutSeconds: 3, upstreamMinBytesPerSecond: 1024 };

interface Obj {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { version?: string; operatingSystem?: string; architecture?: string };
  status?: { conditions?: Condition[] };
}

let plane: ControlPlane;
let chart: ChartOperator;
let hostile: HostileReleases | undefined;
let ns = '';
let otherNs = '';
let scratch = '';
let logFile = '';
let healthPort = 0;
let operator: ManagedProcess | undefined;
let memory: MemorySampler | undefined;
const figures: string[] = [];

const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function list(kind: string, namespace: string): Promise<Obj[]> {
  const r = await kubectl(plane, ['get', kind, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get ${kind} -n ${namespace}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
}

/** Where the operator's memory is, by its own /metrics (prom-client's process and heap gauges), in bytes. */
async function memoryBreakdown(): Promise<Record<'resident' | 'heapTotal' | 'heapUsed' | 'external', number> | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`).catch(() => undefined))?.text();
  const gauge = (name: string) => Number(new RegExp(`^opendepot_operator_${name} (\\S+)`, 'm').exec(text ?? '')?.[1] ?? Number.NaN);
  const breakdown = {
    resident: gauge('process_resident_memory_bytes'),
    heapTotal: gauge('nodejs_heap_size_total_bytes'),
    heapUsed: gauge('nodejs_heap_size_used_bytes'),
    external: gauge('nodejs_external_memory_bytes'),
  };
  return Number.isNaN(breakdown.resident) ? undefined : breakdown;
}

/** The operator's last warnings and errors, for a failure's message. */
async function operatorStory(): Promise<string> {
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '' && !l.includes('"level":"info"') && !l.includes('"level":"debug"'));
  return lines
    .slice(-30)
    .map((l) => l.slice(0, 400))
    .join('\n    ');
}

test.before(async () => {
  plane = await useControlPlane();
  chart = await readChartOperator();
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-e2e-opmem-'));
  ns = await freshNamespace(plane, 'e2e-opmem');
  otherNs = await freshNamespace(plane, 'e2e-opmem-other');
  hostile = await startHostileReleases();
  const etc = join(scratch, 'etc');
  const tmp = join(scratch, 'tmp');
  await mkdir(etc);
  await mkdir(tmp);
  const config = deepMerge(chart.config, {
    namespace: ns,
    // The test's git repositories are local directories.
    allowFileUrls: true,
    storage: { profiles: { default: { filesystem: { path: join(scratch, 'storage') } } } },
    operator: {
      leaderElection: { leaseName: `opendepot-${ns}` },
      watchNamespaces: [ns, otherNs],
      // The stand-ins are on loopback, which the operator refuses unless allowed.
      egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] },
      providers: hostile.providers,
      limits,
    },
  });
  const configFile = join(etc, 'config.yaml');
  await writeFile(configFile, stringify(config));
  logFile = join(scratch, 'operator.log');
  healthPort = await freePort();
  operator = startProcess(process.execPath, [...chart.nodeArgs, '--conditions=opendepot-source', OPERATOR_MAIN, '--config', configFile], {
    logFile,
    // Far from the workspace's node_modules, like the image's /etc/opendepot.
    cwd: etc,
    // The chart's container environment; TMPDIR stands for the pod's /tmp emptyDir (the spool).
    env: { PATH: process.env.PATH, KUBECONFIG: plane.kubeconfigPath, OPENDEPOT_HEALTH_PORT: String(healthPort), TMPDIR: tmp },
  });
  memory = sampleProcessMemory(operator.child.pid!);
  const proc = operator;
  await waitFor(
    'the operator process answers /healthz',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`the operator exited (${proc.child.exitCode}): ${(await readFile(logFile, 'utf8')).slice(-1500)}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => undefined))?.status === 200;
    },
    60_000,
  );
  figures.push(
    `operator started: RSS ${mib(memory.sampledPeak.bytes)} (chart limit ${chart.memoryLimit.quantity}, node ${chart.nodeArgs.join(' ')}); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
});

test.after(async () => {
  await memory?.stop();
  if (memory) {
    figures.push(
      `operator process: peak RSS (VmHWM) ${mib(memory.peakRss)}; largest sampled VmRSS ${mib(memory.sampledPeak.bytes)} (anonymous ${mib(memory.sampledPeak.anon)}, files ${mib(memory.sampledPeak.file)}, shared ${mib(memory.sampledPeak.shmem)}) at ${seconds(memory.sampledPeak.atMs)} after start (${memory.samples} samples, every 100 ms); process group (operator + git children) peak ${mib(memory.groupPeak)}`,
    );
  }
  figures.push(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`figures:\n  ${figures.join('\n  ')}`);
  await operator?.stop();
  await hostile?.close();
  await dropNamespace(plane, ns).catch(() => undefined);
  await dropNamespace(plane, otherNs).catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
});

test('the zip bomb, the drip and the 19,990-link repository at once: the operator process stays under the chart limit, another namespace syncs', async () => {
  const links = await createManyLinksRepo(scratch);
  const calm = await calmModule(scratch, otherNs);
  const proc = operator!;
  const began = performance.now();
  const applied = await kubectl(plane, ['apply', '-n', ns, '-f', '-'], { input: [...hostileProviders(), manyLinksModule(links.url)].map((o) => stringify(o)).join('---\n') });
  assert.is(applied.code, 0, applied.stderr);
  const appliedCalm = await kubectl(plane, ['apply', '-f', '-'], { input: stringify(calm) });
  assert.is(appliedCalm.code, 0, appliedCalm.stderr);

  // Each outcome is latched when first seen (a Stalled drip is retried with backoff later).
  const reached = new Map<string, { ms: number; detail: string }>();
  const goals = ['bomb', ...DRIP_PLATFORMS.operatingSystems.flatMap((os) => DRIP_PLATFORMS.architectures.map((arch) => `drip ${os}/${arch}`)), ...LINK_VERSIONS.map((v) => `links ${v}`), 'calm'];
  const reach = (goal: string, detail: string) => reached.has(goal) || reached.set(goal, { ms: performance.now() - began, detail });
  let last = '';
  // The operator's own view of its memory (one read a second): at its largest resident set seen, and each gauge's largest.
  let largest: Awaited<ReturnType<typeof memoryBreakdown>>;
  const gaugePeaks = { heapTotal: 0, heapUsed: 0, external: 0 };
  while (reached.size < goals.length) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      assert.unreachable(
        `the operator process ended (exit ${proc.child.exitCode}, signal ${proc.child.signalCode}) with ${reached.size}/${goals.length} outcomes reached:\n    ${await operatorStory()}`,
      );
    }
    if (performance.now() - began > BOUND_MS) {
      const missing = goals.filter((g) => !reached.has(g));
      assert.unreachable(`after ${seconds(BOUND_MS)} still waiting for ${missing.join(', ')}; last seen: ${last}\n  operator's last warnings and errors:\n    ${await operatorStory()}`);
    }
    const versions = await list('versions', ns);
    last = JSON.stringify(versions.map((v) => [v.metadata.name, v.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`)]));
    for (const v of versions) {
      const owner = v.metadata.labels?.['opendepot.defdev.io/owner-name'];
      const stalled = condition(v, 'Stalled');
      if (owner === 'bomb' && stalled?.status === 'True') {
        assert.is(stalled.reason, 'LimitExceeded', stalled.message);
        assert.match(stalled.message, /65535 entries.*operator\.limits\.providerZipMaxEntries/);
        reach('bomb', `${stalled.reason}: ${stalled.message.slice(0, 160)}`);
      }
      if (owner === 'drip' && stalled?.status === 'True') {
        assert.is(stalled.reason, 'UpstreamTooSlow', stalled.message);
        reach(`drip ${v.spec?.operatingSystem}/${v.spec?.architecture}`, `${stalled.reason}: …${stalled.message.slice(-140)}`);
      }
      if (owner === 'links' && condition(v, 'Ready')?.status === 'True') {
        reach(`links ${v.spec?.version}`, 'Ready');
      }
    }
    const [module] = (await list('modules', otherNs)).filter((m) => m.metadata.name === 'calm');
    if (condition(module, 'Ready')?.status === 'True') reach('calm', 'Ready');
    const breakdown = await memoryBreakdown();
    if (breakdown && breakdown.resident > (largest?.resident ?? 0)) largest = breakdown;
    for (const k of ['heapTotal', 'heapUsed', 'external'] as const) gaugePeaks[k] = Math.max(gaugePeaks[k], breakdown?.[k] ?? 0);
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (largest)
    figures.push(
      `operator's /metrics at its largest resident set seen (read each second): resident ${mib(largest.resident)}, V8 heap ${mib(largest.heapUsed)} used of ${mib(largest.heapTotal)}, external (buffers) ${mib(largest.external)}; largest over the run: V8 heap ${mib(gaugePeaks.heapUsed)} used of ${mib(gaugePeaks.heapTotal)}, external ${mib(gaugePeaks.external)}`,
    );
  for (const goal of goals) figures.push(`${goal}: ${reached.get(goal)!.detail} after ${seconds(reached.get(goal)!.ms)}`);

  assert.ok(proc.child.exitCode === null && proc.child.signalCode === null, 'the operator process is still running');
  await memory!.stop();
  const { bytes, quantity } = chart.memoryLimit;
  assert.ok(memory!.peakRss > 0, 'VmHWM of the operator process was read');
  assert.ok(memory!.peakRss < bytes, `the operator process peaked at ${mib(memory!.peakRss)} (VmHWM), over the chart's operator.resources.limits.memory ${quantity}`);
  // A container's limit also counts the git processes the operator spawns.
  assert.ok(memory!.groupPeak < bytes, `the operator and its children peaked at ${mib(memory!.groupPeak)} together, over the chart's limit ${quantity}`);
});

test.run();
