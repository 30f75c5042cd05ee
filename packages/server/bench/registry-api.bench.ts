/**
 * Benchmark of the registry API at the shape of issue 15: one Module with 20,000 Versions in the
 * informer cache. Scenarios, each under keep-alive load from autocannon:
 *  - the modules.v1 `versions` answer (~400 KB), plain; with `Accept-Encoding: gzip`; repeated
 *    with `If-None-Match` (304);
 *  - the module download answer (204 + `X-Terraform-Get`), spread over every version.
 * Each is run against the registry and against its ceiling: a bare `node:http` server answering
 * the same bytes (precomputed) and nothing else. The ratio registry/ceiling is the figure to
 * compare across runs on a shared, noisy machine. Servers run pinned to CPU 0, the load on CPU 1.
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source --expose-gc packages/server/bench/registry-api.bench.ts
 *
 * Options (environment): BENCH_VERSIONS (default 20000), BENCH_DURATION_S (default 5),
 * BENCH_CONNECTIONS (default 10), BENCH_ROUNDS (default 3: registry and ceiling runs alternate,
 * medians are printed, and the ratio is the median of each round's ratio, so a host that slows
 * down for a while moves both sides of a round alike).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { createLogger, type Module, type Version } from '@opendepot/core';
import { createRegistryServer } from '../src/index.ts';
import { moduleResource, versionResource } from '../test/support/fixtures.ts';
import { MemoryInformer } from '../test/support/memory-informer.ts';
import { askChild } from './child-reply.ts';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 20_000);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAMESPACE = 'bench';
const PREFIX = `/opendepot/modules/v1/${NAMESPACE}/big/aws`;

type FromChild = { type: 'ready'; url: string; setupMs: number; rss: number } | { type: 'usage'; cpuMicros: number; rss: number };

const versionAt = (i: number) => `${Math.floor(i / 100)}.${i % 100}.0`;
const checksumOf = (version: string) => createHash('sha256').update(version).digest('hex');

function reportUsage(): void {
  process.on('message', (msg: { type: 'gc' | 'usage' }) => {
    if (msg.type === 'gc') globalThis.gc?.();
    const cpu = process.cpuUsage();
    process.send!({ type: 'usage', cpuMicros: cpu.user + cpu.system, rss: process.memoryUsage().rss } satisfies FromChild);
  });
}

// ---- the registry (child process) ----

async function serveRegistry(): Promise<void> {
  const started = performance.now();
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  const big = moduleResource({ name: 'big', namespace: NAMESPACE, provider: 'aws' });
  modules.put(big);
  for (let i = 0; i < VERSIONS; i++) {
    const version = versionAt(i);
    versions.put(versionResource({ owner: big, version, stored: { checksum: checksumOf(version), size: 1000 + i } }));
  }
  // Access logs are written for real (formatted, redacted, one write per line) to /dev/null.
  const devNull = openSync('/dev/null', 'w');
  const server = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: () => Promise.reject(new Error('no archive is served by this benchmark')),
    logger: createLogger({ name: 'opendepot-server', destination: { write: (line: string) => writeSync(devNull, line) } }),
  });
  const listening = await server.listen({ port: 0, host: '127.0.0.1' });
  reportUsage();
  process.on(
    'disconnect',
    () =>
      void listening.close().then(() => {
        closeSync(devNull);
        process.exit(0);
      }),
  );
  globalThis.gc?.();
  process.send!({ type: 'ready', url: listening.url, setupMs: performance.now() - started, rss: process.memoryUsage().rss } satisfies FromChild);
}

// ---- the ceiling (child process): the same answers precomputed, bare node:http ----

async function serveCeiling(): Promise<void> {
  const body = Buffer.from(JSON.stringify({ modules: [{ versions: Array.from({ length: VERSIONS }, (_, i) => ({ version: versionAt(i) })) }] }));
  const gzipped = gzipSync(body);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url.endsWith('/versions')) {
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag });
        return res.end();
      }
      const gzip = (req.headers['accept-encoding'] ?? '').includes('gzip');
      res.writeHead(200, {
        'Content-Type': 'application/json',
        ETag: etag,
        Vary: 'Accept-Encoding',
        ...(gzip && { 'Content-Encoding': 'gzip' }),
        'Content-Length': gzip ? gzipped.length : body.length,
      });
      return res.end(gzip ? gzipped : body);
    }
    const version = url.slice(PREFIX.length + 1, -'/download'.length);
    res.writeHead(204, { 'X-Terraform-Get': `http://127.0.0.1${PREFIX}/${version}/archive.zip?checksum=sha256:${checksumOf(version)}`, 'Cache-Control': 'private, no-cache' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  reportUsage();
  process.on('disconnect', () => server.close(() => process.exit(0)));
  const { port } = server.address() as { port: number };
  process.send!({ type: 'ready', url: `http://127.0.0.1:${port}`, setupMs: 0, rss: process.memoryUsage().rss } satisfies FromChild);
}

// ---- the load (this process) ----

const ask = (child: ChildProcess, type: 'gc' | 'usage') => askChild<Extract<FromChild, { type: 'usage' }>>(child, { type }, 'usage');

async function startChild(kind: 'registry' | 'ceiling'): Promise<{ child: ChildProcess; ready: Extract<FromChild, { type: 'ready' }> }> {
  const self = fileURLToPath(import.meta.url);
  const command = [process.execPath, '--conditions=opendepot-source', '--expose-gc', '--max-semi-space-size=1', self, `--serve=${kind}`];
  const pinned = availableParallelism() >= 2;
  const child = spawn(pinned ? 'taskset' : command[0]!, pinned ? ['-c', '0', ...command] : command.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_VERSIONS: String(VERSIONS) },
  });
  const ready = await new Promise<Extract<FromChild, { type: 'ready' }>>((resolve) => child.on('message', (m: FromChild) => m.type === 'ready' && resolve(m)));
  return { child, ready };
}

interface Scenario {
  name: string;
  headers?: (url: string) => Promise<Record<string, string>>;
  path: (i: number) => string;
  expect: number;
}

interface Figures {
  rps: number;
  p99: number;
  perCpuSecond: number;
  ok: boolean;
}

async function load(url: string, child: ChildProcess, scenario: Scenario): Promise<Figures> {
  const headers = (await scenario.headers?.(url)) ?? {};
  let i = 0;
  const before = (await ask(child, 'usage')).cpuMicros;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: scenario.path(i++) }) }],
  });
  const cpuSeconds = ((await ask(child, 'usage')).cpuMicros - before) / 1e6;
  const statusCount = (result.statusCodeStats as Record<string, { count: number }> | undefined)?.[String(scenario.expect)]?.count ?? 0;
  return { rps: result.requests.mean, p99: result.latency.p99, perCpuSecond: result.requests.total / cpuSeconds, ok: statusCount === result.requests.total && result.errors === 0 };
}

async function etagOf(url: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}${PREFIX}/versions`);
  await res.arrayBuffer();
  return { 'If-None-Match': res.headers.get('etag') ?? '' };
}

const SCENARIOS: Scenario[] = [
  { name: `versions (${VERSIONS} entries), plain`, path: () => `${PREFIX}/versions`, expect: 200 },
  { name: `versions (${VERSIONS} entries), Accept-Encoding: gzip`, headers: async () => ({ 'Accept-Encoding': 'gzip' }), path: () => `${PREFIX}/versions`, expect: 200 },
  { name: `versions (${VERSIONS} entries), If-None-Match → 304`, headers: etagOf, path: () => `${PREFIX}/versions`, expect: 304 },
  { name: 'module download answer (204)', path: (i) => `${PREFIX}/${versionAt((i * 7919) % VERSIONS)}/download`, expect: 204 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (availableParallelism() >= 2) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const registry = await startChild('registry');
  const idle = (await ask(registry.child, 'gc')).rss;
  console.log(`registry: ${VERSIONS} Versions cached in ${registry.ready.setupMs.toFixed(0)} ms; idle RSS after a GC ${(idle / 1048576).toFixed(1)} MB`);
  const ceiling = await startChild('ceiling');
  console.log(`${CONNECTIONS} keep-alive connections, ${DURATION_S} s per run, ${ROUNDS} rounds (medians); servers pinned to one core. ratio = registry / ceiling (bare node:http, same bytes)`);
  for (const scenario of SCENARIOS) {
    const rounds: { r: Figures; c: Figures }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({ r: await load(registry.ready.url, registry.child, scenario), c: await load(ceiling.ready.url, ceiling.child, scenario) });
    }
    const line = (side: 'r' | 'c') => {
      const figures = rounds.map((x) => x[side]);
      const ok = figures.every((f) => f.ok);
      return `${median(figures.map((f) => f.rps)).toFixed(0)} req/s, p99 ${median(figures.map((f) => f.p99))} ms, ${median(figures.map((f) => f.perCpuSecond)).toFixed(0)} req per CPU-second (rounds: ${figures.map((f) => f.perCpuSecond.toFixed(0)).join(', ')})${ok ? '' : ' (UNEXPECTED ANSWERS)'}`;
    };
    console.log(`${scenario.name}:`);
    console.log(`  registry: ${line('r')}`);
    console.log(`  ceiling:  ${line('c')}`);
    console.log(`  ratio:    ${median(rounds.map((x) => x.r.rps / x.c.rps)).toFixed(2)} (per CPU-second ${median(rounds.map((x) => x.r.perCpuSecond / x.c.perCpuSecond)).toFixed(2)})`);
  }
  registry.child.disconnect();
  ceiling.child.disconnect();
}

const serveArg = process.argv.find((a) => a.startsWith('--serve='));
if (serveArg === '--serve=registry') await serveRegistry();
else if (serveArg === '--serve=ceiling') await serveCeiling();
else await main();
