/**
 * Benchmark of the browse UI's list (issue 16: "the list with 2,000 modules renders its first page
 * in under 300 ms on the server"). Shape: BENCH_MODULES Modules (default 2,000) over 20
 * namespaces in in-memory informers (this measures the request path, not the API server), each
 * with two Ready Versions whose status.docs carries a description, one in four with a scan
 * summary. Scenarios, each request after the previous one (the latency of one page, not
 * throughput):
 *  - `GET /ui/` (the first page) and a search `GET /ui/?q=…`;
 *  - `GET /opendepot/api/v1/catalog?q=…`;
 *  - the same as an OIDC principal whose GroupBindings (one per namespace) grant a quarter of the
 *    modules, decided by the real GroupBinding compiler;
 *  - the first page with a Version updated before each request: the list entries (kept between
 *    requests) are rebuilt every time, the worst case.
 * The server-side time of each request is read from the server's own access log (`durationMs`,
 * from the request's arrival to its answer's end); the ceiling is a bare `node:http` server
 * answering the same first page's bytes, precomputed.
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source --expose-gc packages/server/bench/browse-list.bench.ts
 *
 * Options (environment): BENCH_MODULES (default 2000), BENCH_REQUESTS (per scenario, default 200).
 */
import { createServer } from 'node:http';
import { createLogger, decideAccess, GroupBindingCompiler, type GroupBinding, type Module, type Version } from '@opendepot/core';
import type { AuthProvider, Principal } from '@opendepot/sdk';
import { anonymousProvider, createRegistryServer } from '../src/index.ts';
import { moduleResource, versionResource } from '../test/support/fixtures.ts';
import { MemoryInformer } from '../test/support/memory-informer.ts';

const MODULES = Number(process.env.BENCH_MODULES ?? 2_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const NAMESPACES = 20;
const CLOUDS = ['aws', 'azurerm', 'google', 'kubernetes'] as const;
const THINGS = ['network', 'database', 'cluster', 'bucket', 'queue', 'dns', 'iam', 'cache'] as const;
const TOKEN = 'bench-alice';

// ---- the data ----

function seed(): { modules: MemoryInformer<Module>; versions: MemoryInformer<Version>; bindings: MemoryInformer<GroupBinding> } {
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  const bindings = new MemoryInformer<GroupBinding>();
  for (let i = 0; i < MODULES; i++) {
    const cloud = CLOUDS[i % CLOUDS.length]!;
    const thing = THINGS[Math.floor(i / CLOUDS.length) % THINGS.length]!;
    const namespace = `team-${i % NAMESPACES}`;
    const name = `terraform-${cloud}-${thing}-${i}`;
    const owner = moduleResource({ name, namespace, provider: cloud });
    modules.put(owner);
    for (const version of ['1.0.0', '1.1.0']) {
      const v = versionResource({ owner, version, stored: { checksum: 'ab'.repeat(32), size: 1000 } });
      v.status = {
        ...v.status,
        docs: { description: `Builds a ${thing} on ${cloud} for team ${i % NAMESPACES}, with sensible defaults and tags.`, readme: true, inputs: 12, outputs: 4, problems: 0 },
        ...(i % 4 === 0 && { scan: { scanner: 'trivy', phase: 'Completed', critical: 0, high: 1, medium: 2, low: 3, unknown: 0 } }),
      } as Version['status'];
      versions.put(v);
    }
  }
  for (let n = 0; n < NAMESPACES; n++) {
    bindings.put({
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'GroupBinding',
      metadata: { name: 'platform-aws', namespace: `team-${n}`, uid: `gb-${n}` },
      spec: { expression: '"platform" in groups', moduleResources: ['terraform-aws-*'] },
    });
  }
  return { modules, versions, bindings };
}

/** An OIDC-like provider: one bearer token is alice (in the group `platform`); anything else abstains. */
const benchOidc: AuthProvider = {
  authenticate: async (request) => {
    const header = request.headers.authorization;
    return header === `Bearer ${TOKEN}`
      ? { decision: 'allow', principal: { subject: 'alice', provider: 'bench-oidc', groups: ['platform'], claims: {} } satisfies Principal }
      : { decision: 'abstain' };
  },
};

/** An update event of one Version after another (a new object each time, as an informer delivers it). */
function touchVersion(versions: MemoryInformer<Version>): () => void {
  const all = versions.list();
  let i = 0;
  return () => {
    const v = all[i++ % all.length]!;
    versions.put({ ...v, status: { ...v.status, lastVerifiedTime: new Date().toISOString() } });
  };
}

// ---- measuring ----

interface Scenario {
  name: string;
  path: string;
  token?: boolean;
  /** Runs before each request (e.g. an informer event, so the list is rebuilt). */
  before?: () => void;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1)! };
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function measure(base: string, scenario: Scenario, serverTimes: number[]): Promise<{ server: ReturnType<typeof summary>; client: ReturnType<typeof summary>; bytes: number; items: string }> {
  const headers: Record<string, string> = scenario.token ? { authorization: `Bearer ${TOKEN}` } : {};
  const client: number[] = [];
  let bytes = 0;
  let body = '';
  for (let i = 0; i < 20 + REQUESTS; i++) {
    scenario.before?.();
    const started = performance.now();
    const res = await fetch(`${base}${scenario.path}`, { headers });
    body = await res.text();
    if (res.status !== 200) throw new Error(`${scenario.path} answered ${res.status}: ${body.slice(0, 200)}`);
    if (i >= 20) client.push(performance.now() - started);
    bytes = body.length;
  }
  // The access log line of a request is written when its answer has ended: wait for the last.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const server = summary(serverTimes.splice(0).slice(-REQUESTS));
  const total = scenario.path.includes('/api/') ? (JSON.parse(body) as { total: number }).total : (/id="result-count">(\d+) result/.exec(body)?.[1] ?? '?');
  const items = `${total} matching`;
  return { server, client: summary(client), bytes, items };
}

async function main(): Promise<void> {
  const seeded = seed();
  const compiler = new GroupBindingCompiler();
  const serverTimes: number[] = [];
  const registry = createRegistryServer({
    informers: { modules: seeded.modules, versions: seeded.versions },
    resolveStorage: () => Promise.reject(new Error('no archive is served by this benchmark')),
    defaultMetrics: false,
    auth: {
      providers: [
        { name: 'bench-oidc', provider: benchOidc },
        { name: 'anonymous', provider: anonymousProvider() },
      ],
    },
    grants: (principal, resource) => decideAccess(compiler.valid(seeded.bindings.list(resource.namespace)), principal, resource).allowed,
    // The access log, formatted for real, gives each request's server-side time.
    logger: createLogger({
      name: 'opendepot-server',
      destination: {
        write: (line: string) => {
          if (!line.includes('"msg":"request"')) return;
          const entry = JSON.parse(line) as { durationMs?: number; path?: string };
          if (entry.durationMs !== undefined && entry.path !== '/ui/assets/app.css') serverTimes.push(entry.durationMs);
        },
      },
    }),
  });
  const listening = await registry.listen({ port: 0, host: '127.0.0.1' });
  const firstPage = await (await fetch(`${listening.url}/ui/`)).arrayBuffer();
  serverTimes.splice(0);

  const ceiling = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': firstPage.byteLength });
    res.end(Buffer.from(firstPage));
  });
  await new Promise<void>((resolve) => ceiling.listen(0, '127.0.0.1', resolve));
  const ceilingUrl = `http://127.0.0.1:${(ceiling.address() as { port: number }).port}`;

  const scenarios: Scenario[] = [
    { name: 'GET /ui/ (first page), anonymous', path: '/ui/' },
    { name: 'GET /ui/?q=aws network, anonymous', path: '/ui/?q=aws+network' },
    { name: 'GET /opendepot/api/v1/catalog?q=database, anonymous', path: '/opendepot/api/v1/catalog?q=database' },
    { name: 'GET /ui/ (first page), GroupBinding grants', path: '/ui/', token: true },
    { name: 'GET /opendepot/api/v1/catalog?q=network, GroupBinding grants', path: '/opendepot/api/v1/catalog?q=network', token: true },
    // The worst case: a Version changed before every request (an operator busy verifying), so the list is rebuilt each time.
    { name: 'GET /ui/ (first page), anonymous, a Version updated before each request', path: '/ui/', before: touchVersion(seeded.versions) },
  ];
  globalThis.gc?.();
  console.log(`${MODULES} modules (${MODULES * 2} Versions) in ${NAMESPACES} namespaces; ${REQUESTS} requests per scenario, one at a time, after 20 warm-up requests`);
  for (const scenario of scenarios) {
    const r = await measure(listening.url, scenario, serverTimes);
    console.log(`${scenario.name}: ${r.items}, ${(r.bytes / 1024).toFixed(0)} KB`);
    console.log(`  server: p50 ${fmt(r.server.p50)}, p95 ${fmt(r.server.p95)}, p99 ${fmt(r.server.p99)}, max ${fmt(r.server.max)}`);
    console.log(`  client: p50 ${fmt(r.client.p50)}, p95 ${fmt(r.client.p95)}, p99 ${fmt(r.client.p99)}`);
  }
  const c = await measure(ceilingUrl, { name: 'ceiling', path: '/' }, []).catch(() => undefined);
  if (c) console.log(`ceiling (bare node:http, the first page's bytes precomputed): client p50 ${fmt(c.client.p50)}, p99 ${fmt(c.client.p99)}`);
  await listening.close();
  registry.dispose();
  ceiling.close();
}

await main();
