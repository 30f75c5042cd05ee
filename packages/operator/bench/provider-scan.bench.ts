/**
 * Benchmark of provider scanning (issue 14): a provider of 4 platforms whose zips are ~30 MB each
 * (terraform-provider-vulnerable, a real Go executable linking golang.org/x/text v0.3.7, padded
 * with random bytes to a real provider's size) is scanned as the operator scans it: scanArchive
 * (safe unpack, then the TrivyScanner with the real trivy and the test bed's fixture database),
 * all 4 platforms at once as the Version workers would, under each `maxConcurrentScans`.
 *
 * The scans run in a child process (provider-scan-worker.ts), so its memory is the operator
 * side's alone; this process samples it and every process below it from /proc every 50 ms. The
 * scanner's trivy is a wrapper that logs when each trivy starts and ends and its peak RSS (GNU
 * time), so the number of trivy processes at once is also known exactly, not only as sampled.
 * Each configuration also runs a ceiling: the same trivy commands over the already unpacked
 * executables, with the same limit, from a bare process; the wall-time ratio to it is the
 * operator's own overhead (unpacking, the scanner), the figure that moves least on a shared machine.
 *
 * It prints a table and exits non-zero when more trivy processes ran at once than
 * maxConcurrentScans allows, or when a platform's scan does not report CVE-2022-32149.
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/operator/bench/provider-scan.bench.ts
 *
 * Options (environment): BENCH_LIMITS (maxConcurrentScans values, default `1,2,4`), BENCH_ROUNDS
 * (interleaved rounds, default 3), BENCH_PADDING_MIB (random MiB in each executable, default 28:
 * a ~31 MB executable and zip), BENCH_SAMPLE_MS (default 50).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTool, fixtureTrivyDb, providerExecutableName, vulnerableProviderExecutables, writeProviderZip } from '@opendepot/testbed';
import { processTree } from './process-tree.ts';
import type { WorkerJob, WorkerResult } from './provider-scan-worker.ts';

const LIMITS = (process.env.BENCH_LIMITS ?? '1,2,4').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PADDING_MIB = Number(process.env.BENCH_PADDING_MIB ?? 28);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 50);
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];
const NAME = 'vulnerable';
const VERSION = '1.0.0';
const EXPECTED = 'CVE-2022-32149';
const WORKER = fileURLToPath(new URL('./provider-scan-worker.ts', import.meta.url));
const MiB = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

/** One run of one configuration. */
interface Run {
  mode: WorkerJob['mode'];
  limit: number;
  result: WorkerResult;
  /** Most trivy processes seen at once in the /proc samples. */
  sampledAtOnce: number;
  /** Most trivy processes running at once, from the wrapper's start and end times. */
  exactAtOnce: number;
  /** Each trivy's peak RSS (GNU time), KiB. */
  trivyPeaksKiB: number[];
  /** Peaks over the samples (KiB): the trivy processes together (RSS, PSS), one trivy's anonymous memory, and every process of the tree (RSS, PSS). */
  trivySumRssKiB: number;
  trivySumPssKiB: number;
  trivyAnonEachKiB: number;
  totalRssKiB: number;
  totalPssKiB: number;
  /** Most bytes under the spool directory at once (the unpacked packages and their spools). */
  spoolBytes: number;
}

/** Bytes of the files under `dir` now (files may vanish while it counts). */
async function bytesUnder(dir: string): Promise<number> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const sizes = await Promise.all(
    names.map((n) =>
      lstat(join(dir, n)).then(
        (s) => (s.isFile() ? s.size : 0),
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/**
 * A wrapper that runs the real trivy and appends `<start ns> <end ns> <peak RSS KiB> <first arg>`
 * to `log` per run.
 */
async function writeLoggingTrivy(dir: string, trivy: string, log: string): Promise<string> {
  const wrapper = join(dir, 'logged-trivy');
  const peak = existsSync('/usr/bin/time') ? `/usr/bin/time -f %M -o "$0.$$.rss" ${JSON.stringify(trivy)} "$@"` : `${JSON.stringify(trivy)} "$@"`;
  await writeFile(
    wrapper,
    `#!/bin/sh
start=$(date +%s%N)
${peak}
rc=$?
echo "$start $(date +%s%N) $(tail -n 1 "$0.$$.rss" 2>/dev/null || echo 0) $1" >>${JSON.stringify(log)}
rm -f "$0.$$.rss"
exit $rc
`,
  );
  await chmod(wrapper, 0o755);
  return wrapper;
}

/** The most intervals overlapping at one moment. */
function mostAtOnce(intervals: readonly [number, number][]): number {
  const events = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  // Ends before starts at the same instant: a slot handed over is not two at once.
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d!));
  return most;
}

async function runOnce(dir: string, mode: WorkerJob['mode'], limit: number, platforms: WorkerJob['platforms'], trivy: string, trivyComm: string): Promise<Run> {
  const work = await mkdtemp(join(dir, `${mode}-${limit}-`));
  // A fresh copy of the database for every run: trivy writes beside it, nothing carries over.
  const cacheDir = join(work, 'cache');
  await cp(await fixtureTrivyDb(), cacheDir, { recursive: true });
  const log = join(work, 'trivy.log');
  const spoolDir = join(work, 'spool');
  await mkdir(spoolDir);
  const job: WorkerJob = {
    mode,
    trivy: await writeLoggingTrivy(work, trivy, log),
    cacheDir,
    spoolDir,
    maxConcurrentScans: limit,
    platforms,
    name: `registry.terraform.io/opendepot/${NAME}`,
    version: VERSION,
  };
  const worker = spawn(process.execPath, ['--conditions=opendepot-source', WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  worker.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => worker.once('close', resolve));
  let done = false;
  void exited.then(() => (done = true));

  let sampledAtOnce = 0;
  let trivySumRssKiB = 0;
  let trivySumPssKiB = 0;
  let trivyAnonEachKiB = 0;
  let totalRssKiB = 0;
  let totalPssKiB = 0;
  let spoolBytes = 0;
  while (!done) {
    spoolBytes = Math.max(spoolBytes, await bytesUnder(spoolDir));
    const tree = await processTree(worker.pid!);
    const scanning = tree.filter((p) => p.comm === trivyComm);
    sampledAtOnce = Math.max(sampledAtOnce, scanning.length);
    const sum = (f: (p: (typeof tree)[number]) => number, ps = scanning) => ps.reduce((a, p) => a + f(p), 0);
    trivySumRssKiB = Math.max(
      trivySumRssKiB,
      sum((p) => p.rssKiB),
    );
    trivySumPssKiB = Math.max(
      trivySumPssKiB,
      sum((p) => p.pssKiB),
    );
    trivyAnonEachKiB = Math.max(trivyAnonEachKiB, ...scanning.map((p) => p.anonKiB));
    totalRssKiB = Math.max(
      totalRssKiB,
      sum((p) => p.rssKiB, tree),
    );
    totalPssKiB = Math.max(
      totalPssKiB,
      sum((p) => p.pssKiB, tree),
    );
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`the ${mode} worker (maxConcurrentScans ${limit}) exited with ${code}`);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as WorkerResult;
  const scans = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[3] === 'rootfs');
  await rm(work, { recursive: true, force: true });
  return {
    mode,
    limit,
    result,
    sampledAtOnce,
    exactAtOnce: mostAtOnce(scans.map((f) => [Number(f[0]), Number(f[1])])),
    trivyPeaksKiB: scans.map((f) => Number(f[2])),
    trivySumRssKiB,
    trivySumPssKiB,
    trivyAnonEachKiB,
    totalRssKiB,
    totalPssKiB,
    spoolBytes,
  };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const max = (xs: readonly number[]) => Math.max(...xs);

const dir = await mkdtemp(join(tmpdir(), 'opendepot-provider-scan-bench-'));
const failures: string[] = [];
try {
  const trivy = await ensureTool('trivy');
  // The kernel names a process after its executable's file name, cut to 15 characters.
  const trivyComm = basename(trivy).slice(0, 15);
  const executables = await vulnerableProviderExecutables(VERSION, PLATFORMS, undefined, { paddingMiB: PADDING_MIB });
  const platforms: WorkerJob['platforms'] = [];
  const sizes: string[] = [];
  for (const { os, arch } of PLATFORMS) {
    const platform = `${os}_${arch}`;
    const zip = join(dir, `terraform-provider-${NAME}_${VERSION}_${platform}.zip`);
    const { size } = await writeProviderZip(zip, { name: NAME, version: VERSION, os, arch, executable: executables.get(platform)! });
    const unpacked = join(dir, 'unpacked', platform);
    await mkdir(unpacked, { recursive: true });
    await cp(executables.get(platform)!, join(unpacked, providerExecutableName({ name: NAME, version: VERSION, os })));
    platforms.push({ platform, zip, unpacked });
    sizes.push(`${platform} ${(size / 1e6).toFixed(1)} MB zip, ${((await stat(executables.get(platform)!)).size / 1e6).toFixed(1)} MB executable`);
  }
  console.log(`provider-scan benchmark: ${PLATFORMS.length} platforms at once (${sizes.join('; ')}), maxConcurrentScans ${LIMITS.join(', ')}, ${ROUNDS} rounds`);

  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const limit of LIMITS) {
      for (const mode of ['operator', 'ceiling'] as const) {
        const run = await runOnce(dir, mode, limit, platforms, trivy, trivyComm);
        runs.push(run);
        console.log(`  round ${round}, ${mode}, maxConcurrentScans ${limit}: ${(run.result.wallMs / 1000).toFixed(2)} s, trivy at once ${run.exactAtOnce} (sampled ${run.sampledAtOnce})`);
        for (const { platform } of platforms) {
          if (!run.result.found[platform]?.includes(EXPECTED)) failures.push(`${mode}, maxConcurrentScans ${limit}, round ${round}: ${platform} did not report ${EXPECTED}`);
        }
        if (max([run.exactAtOnce, run.sampledAtOnce]) > limit) {
          failures.push(`${mode}, maxConcurrentScans ${limit}, round ${round}: ${max([run.exactAtOnce, run.sampledAtOnce])} trivy processes ran at once`);
        }
      }
    }
  }

  console.log(
    '\n| maxConcurrentScans | wall (median) | of which unpacking | ceiling | ratio | trivy at once: exact / sampled (max) | operator side: idle → peak RSS | each trivy: peak RSS / anon | trivy together: RSS / PSS | all processes: RSS / PSS | spool on disk |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const limit of LIMITS) {
    const of = (mode: Run['mode']) => runs.filter((r) => r.mode === mode && r.limit === limit);
    const ops = of('operator');
    const wall = median(ops.map((r) => r.result.wallMs));
    const ceiling = median(of('ceiling').map((r) => r.result.wallMs));
    console.log(
      `| ${limit} | ${(wall / 1000).toFixed(2)} s | ${(median(ops.map((r) => r.result.unpackMs)) / 1000).toFixed(2)} s | ${(ceiling / 1000).toFixed(2)} s | ${(wall / ceiling).toFixed(2)} | ${max(ops.map((r) => r.exactAtOnce))} / ${max(ops.map((r) => r.sampledAtOnce))} | ${MiB(median(ops.map((r) => r.result.idleRssKiB)))} → ${MiB(max(ops.map((r) => r.result.peakRssKiB)))} | ${MiB(max(ops.flatMap((r) => r.trivyPeaksKiB)))} / ${MiB(max(ops.map((r) => r.trivyAnonEachKiB)))} | ${MiB(max(ops.map((r) => r.trivySumRssKiB)))} / ${MiB(max(ops.map((r) => r.trivySumPssKiB)))} | ${MiB(max(ops.map((r) => r.totalRssKiB)))} / ${MiB(max(ops.map((r) => r.totalPssKiB)))} | ${MiB(max(ops.map((r) => r.spoolBytes)) / 1024)} |`,
    );
  }
  console.log(
    `\ntrivy's peak RSS is GNU time's (exact); the rest are the largest /proc samples (every ${SAMPLE_MS} ms) of the worker's process tree (PSS counts the pages concurrent processes share once); "spool on disk" the largest sample of the bytes under scanArchive's spoolDir.`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\nFAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exitCode = 1;
}
