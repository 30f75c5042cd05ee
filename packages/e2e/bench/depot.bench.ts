/**
 * Benchmark (not a test): a Depot over an upstream of 20 modules with 25 releases each (500
 * versions) against a real kube-apiserver, the GitHub stand-in and filesystem storage. The
 * operator runs as its own process (its real entry point), so its memory is measured alone.
 * Prints the time until every Version is Ready and the operator's peak resident memory.
 *
 * The operator runs as in the image: the compiled `dist/main.js` (build first) with the chart's
 * `operator.nodeArgs`. `BENCH_FROM=source` runs the TypeScript sources instead (Node's type
 * stripping adds its own memory); `BENCH_NODE_ARGS` (space-separated) replaces the chart's flags.
 *
 *   bash scripts/with-env.sh pnpm build
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/e2e/bench/depot.bench.ts [modules] [releases]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, startControlPlane, startGithubStandin } from '@opendepot/testbed';
import { stringify } from 'yaml';
import { readChartOperator } from '../test/support/chart-values.ts';
import { sampleProcessMemory } from '../test/support/process-memory.ts';

const MODULES = Number(process.argv[2] ?? 20);
const RELEASES = Number(process.argv[3] ?? 25);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const FROM_SOURCE = process.env.BENCH_FROM === 'source';
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? (await readChartOperator()).nodeArgs;
const dir = await mkdtemp(join(tmpdir(), 'opendepot-depot-bench-'));
const plane = await startControlPlane();
const github = await startGithubStandin({ rateLimitPerHour: 1_000_000 });
const ns = 'bench';
try {
  await kubectl(plane, ['create', 'namespace', ns]);
  for (let m = 0; m < MODULES; m++) {
    github.addRepo('bench', `terraform-aws-mod${m}`, {
      releases: Array.from({ length: RELEASES }, (_, r) => ({
        tag: `v1.${r}.0`,
        files: { 'main.tf': `output "v" {\n  value = "mod${m} 1.${r}.0"\n}\n`, 'variables.tf': `variable "x" {\n  default = ${r}\n}\n` },
      })),
    });
  }
  const configFile = join(dir, 'config.yaml');
  await writeFile(
    configFile,
    stringify({
      logLevel: 'warn',
      namespace: ns,
      pluginsDir: join(root, 'packages/e2e'),
      plugins: [{ package: '@opendepot/plugin-fs' }],
      defaultStorageConfig: { filesystem: { path: join(dir, 'storage') } },
      operator: {
        concurrency: 8,
        watchNamespaces: [ns],
        leaderElection: { enabled: false },
        github: { apiUrl: github.url },
        // The stand-in is on loopback, which the operator refuses unless allowed.
        egress: { allowedPrivateCidrs: ['127.0.0.0/8'] },
      },
    }),
  );
  const entry = FROM_SOURCE ? ['--conditions=opendepot-source', join(root, 'packages/operator/src/main.ts')] : [join(root, 'packages/operator/dist/main.js')];
  const operator = spawn(process.execPath, [...NODE_ARGS, ...entry, '--config', configFile], {
    cwd: join(root, 'packages/e2e'),
    env: { ...process.env, KUBECONFIG: plane.kubeconfigPath, OPENDEPOT_HEALTH_PORT: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const memory = sampleProcessMemory(operator.pid!);

  const started = Date.now();
  const depot = {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Depot',
    metadata: { name: 'bench', namespace: ns },
    spec: {
      moduleConfigs: Array.from({ length: MODULES }, (_, m) => ({
        name: `mod${m}`,
        provider: 'aws',
        repoOwner: 'bench',
        repoUrl: `https://github.com/bench/terraform-aws-mod${m}`,
        versionConstraints: '>= 1.0.0',
      })),
    },
  };
  const applied = await kubectl(plane, ['apply', '-f', '-'], { input: stringify(depot) });
  if (applied.code !== 0) throw new Error(applied.stderr);
  const total = MODULES * RELEASES;
  let ready = 0;
  let firstAllCreated: number | undefined;
  while (ready < total) {
    await new Promise((r) => setTimeout(r, 1_000));
    const r = await kubectl(plane, ['get', 'versions', '-n', ns, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'], { timeoutMs: 120_000 });
    const lines = r.stdout.split('\n').filter(Boolean);
    if (lines.length >= total && firstAllCreated === undefined) firstAllCreated = Date.now() - started;
    ready = lines.filter((l) => l === 'True').length;
    if (Date.now() - started > 30 * 60_000) throw new Error(`only ${ready}/${total} Ready after 30 min`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`depot benchmark: ${MODULES} modules x ${RELEASES} releases = ${total} Versions (operator from ${FROM_SOURCE ? 'source' : 'dist'}, node ${NODE_ARGS.join(' ')})`);
  console.log(`  all Version objects created after ${((firstAllCreated ?? 0) / 1000).toFixed(1)} s`);
  console.log(`  all ${total} Versions Ready after ${seconds.toFixed(1)} s (${(total / seconds).toFixed(1)} Versions/s)`);
  await memory.stop();
  console.log(`  operator peak RSS (VmHWM): ${(memory.peakRss / 1048576).toFixed(0)} MiB`);
  operator.kill('SIGTERM');
  await new Promise((r) => operator.once('exit', r));
} finally {
  await github.close();
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}
