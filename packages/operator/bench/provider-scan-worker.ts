/**
 * The operator side of provider-scan.bench.ts, in its own process so that its memory is measured
 * alone: scans every platform's zip at once, as the operator's Version workers do (scanArchive
 * with a TrivyScanner), or, as the ceiling, runs the same trivy commands straight over the
 * already unpacked executables with the same limit and nothing else. Prints one JSON line.
 *
 *   node --conditions=opendepot-source provider-scan-worker.ts '<WorkerJob as JSON>'
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** What the benchmark asks for. */
export interface WorkerJob {
  mode: 'operator' | 'ceiling';
  /** The trivy executable (the benchmark's logging wrapper around the real one). */
  trivy: string;
  cacheDir: string;
  /** Where scanArchive unpacks (the operator's spoolDir, /tmp in the pod). */
  spoolDir: string;
  maxConcurrentScans: number;
  /** Per platform: its zip (operator) and a directory holding its executable alone (ceiling). */
  platforms: { platform: string; zip: string; unpacked: string }[];
  name: string;
  version: string;
}

/** What the worker prints. */
export interface WorkerResult {
  /** From the first scan's start to the last one's end. */
  wallMs: number;
  /** Vulnerability IDs found, per platform. */
  found: Record<string, string[]>;
  /** The longest time from the start until the scanner was called: unpacking (operator mode). */
  unpackMs: number;
  /** RSS once everything is loaded, before the scans (KiB). */
  idleRssKiB: number;
  /** The process's peak RSS (getrusage maxrss, KiB). */
  peakRssKiB: number;
}

const job = JSON.parse(process.argv[2] ?? '') as WorkerJob;

type Scan = () => Promise<Record<string, string[]>>;
/** When the last package was unpacked and handed to the scanner. */
let unpackedAt: number | undefined;

/**
 * The operator's way: scanArchive of each zip, all at once; the scanner's slots bound trivy.
 * Loaded and initialised (`trivy --version`) before it is timed.
 */
async function operatorScan(): Promise<Scan> {
  const { TrivyScanner } = await import('@opendepot/plugin-trivy');
  const { scanArchive } = await import('../src/controllers/scanning.ts');
  const scanner = await new TrivyScanner({ binary: job.trivy, cacheDir: job.cacheDir, maxConcurrentScans: job.maxConcurrentScans }).init();
  // The same scanner, noting when scanArchive hands it the unpacked package.
  const timed = {
    targets: scanner.targets,
    scan: (...args: Parameters<typeof scanner.scan>) => {
      unpackedAt = performance.now();
      return scanner.scan(...args);
    },
  };
  const policy = { scanners: [timed], blockSeverities: [] };
  return () =>
    eachPlatformAtOnce(async (p) => {
      const outcome = await scanArchive(p.zip, 'zip', { kind: 'provider', name: job.name, version: job.version }, policy, { spoolDir: job.spoolDir });
      return outcome.findings.map((f) => f.id);
    });
}

/** The ceiling: the scanner's trivy command over the unpacked executables, at most `maxConcurrentScans` at once. */
async function bareScan(): Promise<Record<string, string[]>> {
  const trivy = promisify(execFile);
  const args = ['rootfs', '--skip-version-check', '--disable-telemetry', '--skip-check-update', '--quiet', '--scanners', 'vuln', '--offline-scan', '--skip-java-db-update', '--skip-db-update'];
  const waiting = [...job.platforms];
  const found: Record<string, string[]> = {};
  await Promise.all(
    Array.from({ length: job.maxConcurrentScans }, async () => {
      for (let p = waiting.shift(); p !== undefined; p = waiting.shift()) {
        const { stdout } = await trivy(job.trivy, [...args, '--cache-dir', job.cacheDir, '--format', 'json', p.unpacked], { maxBuffer: 64 * 1024 * 1024 });
        const report = JSON.parse(stdout) as { Results?: { Vulnerabilities?: { VulnerabilityID: string }[] }[] };
        found[p.platform] = (report.Results ?? []).flatMap((r) => (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID));
      }
    }),
  );
  return found;
}

async function eachPlatformAtOnce(scanOne: (p: WorkerJob['platforms'][number]) => Promise<string[]>): Promise<Record<string, string[]>> {
  const found = await Promise.all(job.platforms.map(async (p) => [p.platform, await scanOne(p)] as const));
  return Object.fromEntries(found);
}

// Load what the scans need first, so the idle figure holds the code and the peak only adds the scans.
const scan: Scan = job.mode === 'operator' ? await operatorScan() : bareScan;
const idleRssKiB = Math.round(process.memoryUsage().rss / 1024);
const started = performance.now();
const found = await scan();
const result: WorkerResult = { wallMs: performance.now() - started, found, unpackMs: unpackedAt === undefined ? 0 : unpackedAt - started, idleRssKiB, peakRssKiB: process.resourceUsage().maxRSS };
console.log(JSON.stringify(result));
