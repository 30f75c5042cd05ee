/**
 * Benchmark of the proxied provider download (not a test: it prints figures and asserts nothing).
 *
 * A 700 MB provider zip (written to disk as it is generated, never held in memory) is stored in
 * the real filesystem storage backend and downloaded through the providers.v1 package route by
 * 8 clients at once; every download is hashed by the server while it streams. The figures:
 *   - aggregate download throughput, as a ratio to copying the same file on this machine
 *     (`cp`, and a Node.js stream copy, both measured here);
 *   - the server's peak resident memory, sampled from /proc/<pid>/status (VmRSS every 10 ms,
 *     and the kernel's own high-water mark VmHWM).
 * The server runs in a child process as in production (the compiled dist/, no TypeScript loader;
 * see provider-download-server.mjs), pinned to CPU 0 when there are two or more; the clients run
 * in this process on CPU 1. It also prints the server's CPU time: on a shared machine, bytes per
 * CPU-second is what one dedicated core sustains. Run from the repository root, after a build:
 *
 *   bash scripts/with-env.sh pnpm build
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/server/bench/provider-download.bench.ts
 *
 * The same rounds then run against a bare `node:http` server streaming the same file with the
 * same reads and nothing else (ceiling-download-server.mjs): the most any Node.js server gets from
 * one core here, so the registry's figures can be read against it (BENCH_CEILING=0 skips it).
 *
 * Options (environment):
 * - BENCH_SIZE_MB (default 700), BENCH_CLIENTS (default 8), BENCH_ROUNDS (default 2);
 * - BENCH_PIN=0: do not pin the server and the clients to CPUs;
 * - BENCH_SERVER_FLAGS: Node.js flags of the server (default `--max-semi-space-size=1`, the
 *   README's recommendation; `''` for Node's defaults);
 * - BENCH_READ_CHUNK_KB: serve the same bytes read N KiB at a time instead of through the
 *   filesystem backend (which reads 64 KiB at a time), to see what the read size does to memory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { glob, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { writeProviderZip } from '@opendepot/testbed';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 700);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** The flags the README recommends for the server process (NODE_OPTIONS in the container). */
const DEFAULT_SERVER_FLAGS = '--max-semi-space-size=1';
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? DEFAULT_SERVER_FLAGS).split(' ').filter(Boolean);
const NS = 'bench';
const VERSION = '1.0.0';

/** The stored package the server child serves (passed to it as JSON). */
export interface StoredPackage {
  root: string;
  key: string;
  checksum: string;
  size: number;
  namespace: string;
  type: string;
  version: string;
  /** The zip the stored object was made from (same bytes), for BENCH_READ_CHUNK_KB. */
  source: string;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const rate = (bytes: number, seconds: number) => `${(bytes / MB / seconds).toFixed(0)} MB/s`;

async function timed(run: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process used, and its waited-for children, from /proc/<pid>/stat. */
async function cpuOf(pid: number | 'self'): Promise<{ own: number; children: number }> {
  // Fields after the command name (which may contain spaces): utime is the 12th, cstime the 15th.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ').map(Number);
  return { own: (fields[11]! + fields[12]!) / TICKS_PER_SECOND, children: (fields[13]! + fields[14]!) / TICKS_PER_SECOND };
}

/** Reads `VmRSS` and `VmHWM` (bytes) of a process from /proc. */
async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** One download, counting bytes; resolves with whether all of them arrived. */
function download(url: string, expected: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const req = request(url, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('end', () => resolve(res.statusCode === 200 && res.complete && received === expected));
      res.on('error', () => resolve(false));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Refuses to measure a stale build: the child runs dist/, which `pnpm build` (tsc -b) makes. */
async function assertBuilt(): Promise<void> {
  const newest = async (dir: string, pattern: string): Promise<number> => {
    let latest = 0;
    for await (const entry of glob(pattern, { cwd: fileURLToPath(new URL(dir, import.meta.url)) })) {
      latest = Math.max(latest, (await stat(fileURLToPath(new URL(`${dir}/${entry}`, import.meta.url)))).mtimeMs);
    }
    return latest;
  };
  // tsc -b rewrites only the outputs of changed sources, so the newest of each side is compared.
  if ((await newest('../dist', '**/*.js')) < (await newest('../src', '**/*.ts'))) throw new Error('packages/server/dist is missing or older than src: run `bash scripts/with-env.sh pnpm build` first');
}

/** Ends a server child (it exits when its IPC channel closes) and waits for it. */
async function stop(child: { process?: ChildProcess }): Promise<void> {
  const running = child.process;
  if (running === undefined || !running.connected) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.disconnect();
  await exited;
}

/** Copy baselines the rounds are compared with (seconds for one copy, and cp's CPU-seconds). */
interface Baselines {
  cp: number;
  streamCopy: number;
  cpCpuSeconds: number;
}

// Decided once, before this process pins itself (which makes availableParallelism() 1).
const pinned = availableParallelism() >= 2 && process.env.BENCH_PIN !== '0';

/**
 * Starts `script` (pinned to CPU 0, this process to CPU 1), runs ROUNDS rounds of CLIENTS
 * concurrent downloads of `path` while sampling its memory, prints the figures, and returns the
 * best round's aggregate bytes/s and bytes per server CPU-second.
 */
async function measureServer(
  child: { process?: ChildProcess },
  label: string,
  script: string,
  stored: StoredPackage,
  path: string,
  { cp, streamCopy, cpCpuSeconds }: Baselines,
): Promise<{ throughput: number; perCpuSecond: number }> {
  const command = [process.execPath, ...SERVER_FLAGS, fileURLToPath(new URL(`./${script}`, import.meta.url)), JSON.stringify(stored)];
  child.process = spawn(pinned ? 'taskset' : command[0]!, pinned ? ['-c', '0', ...command] : command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (pinned) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const { url } = await new Promise<{ url: string }>((resolve) => child.process!.once('message', resolve));
  const pid = child.process.pid!;
  const packageUrl = `${url}${path}`;
  const reads = process.env.BENCH_READ_CHUNK_KB && script === 'provider-download-server.mjs' ? `${process.env.BENCH_READ_CHUNK_KB} KiB reads of the same bytes` : '64 KiB reads';
  console.log(`${label}: ${pinned ? 'pinned to CPU 0, clients on CPU 1' : 'unpinned'}; flags: ${SERVER_FLAGS.join(' ') || '(none)'}; ${reads}`);
  if (process.env.BENCH_PAUSE) {
    console.log(`PACKAGE_URL ${packageUrl} PID ${pid}`);
    await new Promise((r) => setTimeout(r, Number(process.env.BENCH_PAUSE)));
  }
  const idle = await memoryOf(pid);
  console.log(`  RSS at rest: ${mb(idle.rss)}`);

  let peakRss = idle.rss;
  let best = { throughput: 0, perCpuSecond: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, (await memoryOf(pid)).rss);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let results: boolean[] = [];
    const cpuBefore = (await cpuOf(pid)).own;
    const seconds = await timed(async () => (results = await Promise.all(Array.from({ length: CLIENTS }, () => download(packageUrl, stored.size)))));
    const serverCpu = (await cpuOf(pid)).own - cpuBefore;
    sampling = false;
    await sampler;
    const total = stored.size * CLIENTS;
    const ok = results.filter(Boolean).length;
    best = { throughput: Math.max(best.throughput, total / seconds), perCpuSecond: Math.max(best.perCpuSecond, total / serverCpu) };
    console.log(
      `  round ${round}: ${CLIENTS} × ${mb(stored.size)} in ${seconds.toFixed(2)} s, ${ok}/${CLIENTS} complete; aggregate ${rate(total, seconds)} ` +
        `= ${(total / seconds / (stored.size / cp)).toFixed(2)} × cp, ${(total / seconds / (stored.size / streamCopy)).toFixed(2)} × node stream copy; per client ${rate(stored.size, seconds)}`,
    );
    // On a shared machine neither side gets whole CPUs: bytes per CPU-second is what each does
    // with one dedicated core.
    console.log(`    server CPU ${serverCpu.toFixed(2)} s → ${rate(total, serverCpu)} per CPU-second, ${(total / serverCpu / (stored.size / cpCpuSeconds)).toFixed(2)} × cp per CPU-second`);
  }
  const { hwm } = await memoryOf(pid);
  console.log(`  peak RSS: ${mb(peakRss)} sampled every 10 ms; VmHWM (kernel high-water mark) ${mb(hwm)}; at rest it was ${mb(idle.rss)}`);
  return best;
}

async function main(): Promise<void> {
  await assertBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-provider-bench-'));
  const child: { process?: ChildProcess } = {};
  try {
    // 1. The package, generated straight to disk, then stored through the real backend.
    const source = join(dir, 'terraform-provider-big.zip');
    const generated = await writeProviderZip(source, { name: 'big', version: VERSION, os: 'linux', arch: 'amd64', size: SIZE_MB * MB });
    const root = join(dir, 'storage');
    const storage = await new FilesystemStorage({ path: root }).init();
    const key = `providers/${NS}/big/${VERSION}/terraform-provider-big_${VERSION}_linux_amd64.zip`; // derived, as the server serves no other
    const info = await storage.put(key, createReadStream(source), { size: generated.size, sha256: generated.sha256 });
    const stored: StoredPackage = { root, key, checksum: info.sha256, size: info.size, namespace: NS, type: 'big', version: VERSION, source };
    console.log(`package: ${mb(stored.size)} zip, stored in the filesystem backend`);

    // 2. The copy baselines (page cache warm: the file was just written and read).
    const cpSeconds: number[] = [];
    const cpCpu: number[] = [];
    const streamSeconds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const target = join(dir, `copy-${i}.zip`);
      const before = (await cpuOf('self')).children;
      cpSeconds.push(await timed(() => execFileSync('cp', [source, target])));
      cpCpu.push((await cpuOf('self')).children - before);
      await rm(target);
      streamSeconds.push(await timed(() => pipeline(createReadStream(source), createWriteStream(target))));
      await rm(target);
    }
    const cp = median(cpSeconds);
    const streamCopy = median(streamSeconds);
    const cpCpuSeconds = median(cpCpu);
    console.log(
      `copy baseline: cp ${cp.toFixed(2)} s (${rate(stored.size, cp)}; ${cpCpuSeconds.toFixed(2)} CPU-s), node stream copy ${streamCopy.toFixed(2)} s (${rate(stored.size, streamCopy)}) — medians of 3`,
    );

    // 3. The registry server, then the bare ceiling server, each in its own process.
    const registry = await measureServer(
      child,
      'registry server',
      'provider-download-server.mjs',
      stored,
      `/opendepot/providers/v1/${NS}/big/${VERSION}/terraform-provider-big_${VERSION}_linux_amd64.zip`,
      { cp, streamCopy, cpCpuSeconds },
    );
    await stop(child);
    if (process.env.BENCH_CEILING === '0') return;
    const ceiling = await measureServer(child, 'ceiling: bare node:http, no hashing', 'ceiling-download-server.mjs', stored, '/', { cp, streamCopy, cpCpuSeconds });
    console.log(
      `registry / ceiling: throughput ${(registry.throughput / ceiling.throughput).toFixed(2)} (best rounds), per CPU-second ${(registry.perCpuSecond / ceiling.perCpuSecond).toFixed(2)}; ` +
        `ceiling = ${(ceiling.throughput / (stored.size / cp)).toFixed(2)} × cp`,
    );
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
