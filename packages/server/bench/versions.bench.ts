/**
 * Benchmark of the registry server (not a test: it prints figures and asserts nothing).
 *
 *  1. The modules.v1 `versions` endpoint with 1,000 modules × 20 versions in the informer caches,
 *     under keep-alive load from autocannon: requests/s and latency percentiles.
 *  2. A proxied, verified 200 MB archive download: the server's RSS growth while it streams, for a
 *     fast reader and for a slow one (so backpressure, not buffering, has to hold the memory).
 *
 * The server runs in a child process pinned to one CPU (taskset, when there are two or more),
 * the load generator in this process on another. Run from the repository root:
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source --expose-gc packages/server/bench/versions.bench.ts
 *
 * Options (environment): BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 10),
 * BENCH_DOWNLOAD_MB (default 200), BENCH_SERVER_FLAGS (Node.js flags of the server; default
 * `--max-semi-space-size=1`, the README's recommendation; `''` for Node's defaults).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createLogger, type Module, type Version } from '@opendepot/core';
import { createRegistryServer } from '../src/index.ts';
import { DiskStorage } from '../test/support/disk-storage.ts';
import { moduleKey, moduleResource, versionResource } from '../test/support/fixtures.ts';
import { MemoryInformer } from '../test/support/memory-informer.ts';

const MODULES = 1000;
const VERSIONS_PER_MODULE = 20;
const NAMESPACES = 10;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DOWNLOAD_MB = Number(process.env.BENCH_DOWNLOAD_MB ?? 200);
const BIG_KEY = 'modules/bench/big/aws/1.0.0/big-aws-1.0.0.zip'; // derived, as the server serves no other
/** Node.js flags of the server process; default: the README's recommended production flags. */
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);

type ToChild = { type: 'rss' } | { type: 'gc' };
type FromChild = { type: 'ready'; url: string; setupMs: number } | { type: 'rss'; rss: number; arrayBuffers: number; cpuMicros: number };

const fake = (n: number, storageKey: string) => ({ checksum: createHash('sha256').update(String(n)).digest('hex'), size: 1000 + n, storageKey });

// ---- the server side (child process) ----

async function serve(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-bench-'));
  const storage = new DiskStorage(join(dir, 'objects'));
  const started = performance.now();
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  let n = 0;
  for (let m = 0; m < MODULES; m++) {
    const mod = moduleResource({ name: `module-${m}`, namespace: `team-${m % NAMESPACES}`, provider: 'aws' });
    modules.put(mod);
    for (let v = 0; v < VERSIONS_PER_MODULE; v++) {
      const version = `1.${v}.${m % 7}`;
      versions.put(versionResource({ owner: mod, version, stored: fake(n++, moduleKey(mod, version)) }));
    }
  }
  // The big archive: written in 1 MiB pieces, hashed on the way, never whole in memory.
  const path = storage.path(BIG_KEY);
  await (await import('node:fs/promises')).mkdir(join(path, '..'), { recursive: true });
  const file = await open(path, 'w');
  const hash = createHash('sha256');
  for (let i = 0; i < DOWNLOAD_MB; i++) {
    const piece = randomBytes(1024 * 1024);
    hash.update(piece);
    await file.write(piece);
  }
  await file.close();
  const checksum = hash.digest('hex');
  await writeFile(`${path}.sha256`, checksum);
  const big = moduleResource({ name: 'big', namespace: 'bench' });
  modules.put(big);
  versions.put(versionResource({ owner: big, version: '1.0.0', stored: { checksum, size: DOWNLOAD_MB * 1024 * 1024, storageKey: BIG_KEY } }));

  // Access logs are written for real (formatted, redacted, one write per line) to /dev/null.
  const devNull = openSync('/dev/null', 'w');
  const server = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: async () => storage,
    logger: createLogger({ name: 'opendepot-server', destination: { write: (line: string) => writeSync(devNull, line) } }),
  });
  const listening = await server.listen({ port: 0, host: '127.0.0.1' });
  const setupMs = performance.now() - started;
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'gc') globalThis.gc?.();
    const usage = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send!({ type: 'rss', rss: usage.rss, arrayBuffers: usage.arrayBuffers, cpuMicros: cpu.user + cpu.system } satisfies FromChild);
  });
  process.on('disconnect', () => {
    void listening.close().then(async () => {
      closeSync(devNull);
      await rm(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  process.send!({ type: 'ready', url: listening.url, setupMs } satisfies FromChild);
}

// ---- the load side (this process) ----

function ask(child: ChildProcess, msg: ToChild): Promise<Extract<FromChild, { type: 'rss' }>> {
  return new Promise((resolve) => {
    const onMessage = (reply: FromChild) => {
      if (reply.type !== 'rss') return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function loadVersions(url: string, child: ChildProcess): Promise<void> {
  let i = 0;
  const cpuBefore = (await ask(child, { type: 'rss' })).cpuMicros;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (req) => {
          const m = (i++ * 7919) % MODULES; // spread over every module
          return { ...req, method: 'GET', path: `/opendepot/modules/v1/team-${m % NAMESPACES}/module-${m}/aws/versions` };
        },
      },
    ],
  });
  const cpuSeconds = ((await ask(child, { type: 'rss' })).cpuMicros - cpuBefore) / 1e6;
  const ok = result['2xx'];
  console.log(`versions endpoint (${MODULES} modules × ${VERSIONS_PER_MODULE} versions, ${CONNECTIONS} keep-alive connections, ${DURATION_S} s):`);
  console.log(`  requests/s: mean ${result.requests.mean.toFixed(0)}, min ${result.requests.min}, total ${result.requests.total} (${ok} 2xx, ${result.non2xx} other, ${result.errors} errors)`);
  console.log(`  latency ms: p50 ${result.latency.p50}, p90 ${result.latency.p90}, p99 ${result.latency.p99}, max ${result.latency.max}`);
  // On a shared machine the server may not get its whole CPU: requests per CPU-second it used is
  // what one dedicated core would sustain.
  console.log(`  server CPU: ${cpuSeconds.toFixed(1)} s busy of ${DURATION_S} s → ${(result.requests.total / cpuSeconds).toFixed(0)} requests per CPU-second`);
}

/** Downloads the big archive; `slowMBps` throttles the reader. Returns the peak server RSS. */
async function download(url: string, child: ChildProcess, slowMBps?: number): Promise<{ peak: number; peakArrayBuffers: number; seconds: number; ok: boolean }> {
  let peak = 0;
  let peakArrayBuffers = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sample = await ask(child, { type: 'rss' });
      peak = Math.max(peak, sample.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, sample.arrayBuffers);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const started = performance.now();
  const ok = await new Promise<boolean>((resolve, reject) => {
    const hash = createHash('sha256');
    let received = 0;
    const req = request(`${url}/opendepot/modules/v1/bench/big/aws/1.0.0/archive.zip`, (res) => {
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        if (slowMBps !== undefined) {
          // Read no faster than slowMBps: pause for as long as this chunk "should" have taken.
          res.pause();
          setTimeout(() => res.resume(), (chunk.length / (slowMBps * 1024 * 1024)) * 1000);
        }
      });
      res.on('end', () => resolve(res.complete && received === DOWNLOAD_MB * 1024 * 1024));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  sampling = false;
  await sampler;
  return { peak, peakArrayBuffers, seconds: (performance.now() - started) / 1000, ok };
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const execArgv = ['--conditions=opendepot-source', '--expose-gc', ...SERVER_FLAGS];
  const pinned = availableParallelism() >= 2;
  // Server on CPU 0, this load generator on CPU 1.
  const command = [process.execPath, ...execArgv, self, '--serve'];
  const child = spawn(pinned ? 'taskset' : command[0]!, pinned ? ['-c', '0', ...command] : command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (pinned) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const ready = await new Promise<Extract<FromChild, { type: 'ready' }>>((resolve) =>
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') resolve(m);
    }),
  );
  console.log(
    `server ${pinned ? 'pinned to CPU 0' : 'unpinned (one CPU only)'}, flags ${SERVER_FLAGS.join(' ') || '(none)'}; caches and ${DOWNLOAD_MB} MB archive ready in ${(ready.setupMs / 1000).toFixed(1)} s`,
  );

  // Warm-up, then the measured run.
  await autocannon({ url: `${ready.url}/opendepot/modules/v1/team-1/module-1/aws/versions`, connections: CONNECTIONS, duration: 2 });
  await loadVersions(ready.url, child);

  for (const slow of [undefined, 100]) {
    const baseline = (await ask(child, { type: 'gc' })).rss;
    const { peak, peakArrayBuffers, seconds, ok } = await download(ready.url, child, slow);
    const after = (await ask(child, { type: 'gc' })).rss;
    console.log(
      `proxied ${DOWNLOAD_MB} MB download (${slow === undefined ? 'fast reader' : `reader throttled to ${slow} MB/s`}): ${ok ? 'complete and verified' : 'FAILED'} in ${seconds.toFixed(1)} s`,
    );
    // ArrayBuffers are the read chunks: mostly garbage V8 collects in batches (it lets ~64 MB of
    // external memory build up before a full GC), so the peak shows GC timing, not buffering.
    console.log(`  server RSS: ${mb(baseline)} before, peak ${mb(peak)} (growth ${mb(peak - baseline)}), ${mb(after)} after a GC; peak ArrayBuffer memory ${mb(peakArrayBuffers)}`);
  }
  child.disconnect();
}

if (process.argv.includes('--serve')) await serve();
else await main();
