/**
 * Benchmark of access control with Dex (not a test: it prints figures and asserts nothing): the
 * modules.v1 `versions` route under keep-alive load (autocannon), anonymous versus a real Dex
 * access token verified by `@opendepot/plugin-dex` and granted by the announcement's GroupBinding,
 * on the same data. The target: auth on keeps at least 70% of the anonymous req/s.
 *
 * Every request with the token pays what production pays: the bearer is read, the JWT signature,
 * `iss`, `aud`, `exp` and `nbf` are checked against the cached key set, the groups claim is read,
 * and the bindings of the namespace decide. Dex is real (the test bed's build); the token comes
 * from its login form through the authorization-code flow with PKCE.
 *
 * Server and load generator share this process. Run from the repository root:
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/server/bench/auth-dex.bench.ts
 *
 * Options (environment): BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 10),
 * BENCH_ROUNDS (default 3).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { createLogger, decideAccess, GroupBindingCompiler, type GroupBinding, type Module, type Version } from '@opendepot/core';
import dexPlugin from '@opendepot/plugin-dex';
import type { AuthProvider, Logger } from '@opendepot/sdk';
import { dexAccessToken, startDex } from '@opendepot/testbed';
import { createRegistryServer, type RegistryServer } from '../src/index.ts';
import { DiskStorage } from '../test/support/disk-storage.ts';
import { moduleKey, moduleResource, store, versionResource } from '../test/support/fixtures.ts';
import { MemoryInformer } from '../test/support/memory-informer.ts';

const execFileAsync = promisify(execFile);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENT = 'opendepot-cli';
const NAMESPACE = 'platform';
const MODULE = 'terraform-aws-vpc';

const dex = await startDex({ users: [{ email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team'] }], clients: [{ id: CLIENT, public: true }] });
const dir = await mkdtemp(join(tmpdir(), 'opendepot-auth-dex-bench-'));
const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const stop = new AbortController();

try {
  // The same data for both servers: one module with a stored version, and the announcement's binding.
  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  const src = join(dir, 'src');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'main.tf'), 'output "name" {\n  value = "vpc"\n}\n');
  await execFileAsync('zip', ['-q', '-X', '-r', join(dir, 'vpc.zip'), '.'], { cwd: src });
  const module = moduleResource({ name: MODULE, namespace: NAMESPACE, provider: 'aws' });
  modules.put(module);
  versions.put(versionResource({ owner: module, version: '1.0.0', stored: await store(storage, moduleKey(module, '1.0.0'), await readFile(join(dir, 'vpc.zip'))) }));
  const bindings: GroupBinding[] = [
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'GroupBinding',
      metadata: { name: 'aws-platform', namespace: NAMESPACE, uid: 'bench', generation: 1 },
      spec: { expression: '"aws-platform-team" in groups', moduleResources: ['terraform-aws-*'], providerResources: ['aws'] },
    } as GroupBinding,
  ];
  const compiler = new GroupBindingCompiler();

  const dexProvider = (await dexPlugin.create(
    { issuerUrl: dex.issuer, clientId: CLIENT },
    { logger: silent, signal: stop.signal, clock: { now: () => Date.now() }, configPath: 'plugins[0].config' },
  )) as AuthProvider;
  const quiet = createLogger({ level: 'warn', destination: { write: () => undefined } });
  const make = (withAuth: boolean): RegistryServer =>
    createRegistryServer({
      informers: { modules, versions },
      resolveStorage: async () => storage,
      logger: quiet,
      defaultMetrics: false,
      ...(withAuth && {
        auth: { providers: [{ name: 'dex', provider: dexProvider }] },
        grants: (principal, resource) => decideAccess(compiler.valid(bindings), principal, resource).allowed,
      }),
    });
  const anonymous = make(false);
  const authed = make(true);
  const anonymousListening = await anonymous.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });
  const authedListening = await authed.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });

  const headers = { authorization: `Bearer ${await dexAccessToken(dex.endpoints, { clientId: CLIENT, port: 10003 })}` };
  const path = `/opendepot/modules/v1/${NAMESPACE}/${MODULE}/aws/versions`;

  // The token must really be what decides: granted with it, refused without it.
  const granted = await fetch(`${authedListening.url}${path}`, { headers });
  const refused = await fetch(`${authedListening.url}${path}`);
  if (granted.status !== 200 || refused.status !== 401) throw new Error(`auth is not deciding: with the token ${granted.status}, without ${refused.status}`);

  const load = async (url: string, h: Record<string, string>) => {
    const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers: h });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    return { rps: result.requests.average, p99: result.latency.p99 };
  };
  // Alternating rounds (after a warm-up of each), so drift on a shared machine hits both alike.
  await load(`${anonymousListening.url}${path}`, {});
  await load(`${authedListening.url}${path}`, headers);
  const rounds = { anonymous: [] as { rps: number; p99: number }[], dex: [] as { rps: number; p99: number }[] };
  for (let i = 0; i < ROUNDS; i++) {
    rounds.anonymous.push(await load(`${anonymousListening.url}${path}`, {}));
    rounds.dex.push(await load(`${authedListening.url}${path}`, headers));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const anonymousRps = mean(rounds.anonymous.map((r) => r.rps));
  const dexRps = mean(rounds.dex.map((r) => r.rps));
  const show = (rs: { rps: number; p99: number }[]) => rs.map((r) => `${Math.round(r.rps)} (p99 ${r.p99} ms)`).join(', ');
  console.log(`versions route, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s each:`);
  console.log(`  anonymous:             ${Math.round(anonymousRps)} req/s: ${show(rounds.anonymous)}`);
  console.log(`  Dex token + binding:   ${Math.round(dexRps)} req/s: ${show(rounds.dex)}`);
  console.log(`  auth on keeps ${((dexRps / anonymousRps) * 100).toFixed(0)}% of the anonymous req/s (target: at least 70%)`);

  await anonymousListening.close();
  await authedListening.close();
  anonymous.dispose();
  authed.dispose();
} finally {
  stop.abort();
  await dex.stop();
  await rm(dir, { recursive: true, force: true });
}
