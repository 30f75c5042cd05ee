/**
 * Benchmark of access control with Kubernetes tokens (not a test: it prints figures and asserts
 * nothing), against the real kube-apiserver:
 *
 *  1. `tofu init` of 20 modules with a ServiceAccount token in `TF_TOKEN_<host>`: how many
 *     TokenReviews and SubjectAccessReviews the API server got, and the caches' hit rates.
 *  2. The modules.v1 `versions` endpoint under keep-alive load (autocannon), anonymous versus the
 *     same token (answers cached): requests/s of each and their ratio.
 *
 * Server and load generator share this process. Run from the repository root:
 *
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/server/bench/auth.bench.ts
 *
 * Options (environment): BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 10).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { createKubeClient, createLogger, type Module, type Version } from '@opendepot/core';
import { cliConfigText, createTestCertificates, dropNamespace, freshNamespace, kubectl, runRegistryClient, useControlPlane } from '@opendepot/testbed';
import { createRegistryServer, kubernetesProvider, type RegistryServer } from '../src/index.ts';
import { DiskStorage } from '../test/support/disk-storage.ts';
import { moduleKey, moduleResource, store, versionResource } from '../test/support/fixtures.ts';
import { MemoryInformer } from '../test/support/memory-informer.ts';

const execFileAsync = promisify(execFile);
const MODULE_COUNT = 20;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const HOST = 'opendepot.test';
const AUDIENCE = 'opendepot-bench';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'auth-bench');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, userAgent: 'opendepot-bench' });
const dir = await mkdtemp(join(tmpdir(), 'opendepot-auth-bench-'));
const names = Array.from({ length: MODULE_COUNT }, (_, i) => `m-${i}`);

async function k(args: string[]): Promise<string> {
  const r = await kubectl(cp, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

try {
  await k(['create', 'serviceaccount', 'ci', '-n', ns]);
  await k(['create', 'role', 'reader', '-n', ns, '--verb=get', '--resource=modules.opendepot.defdev.io', ...names.map((n) => `--resource-name=${n}`)]);
  await k(['create', 'rolebinding', 'ci-reads', '-n', ns, '--role=reader', `--serviceaccount=${ns}:ci`]);
  const token = (await k(['create', 'token', 'ci', '-n', ns, '--audience', AUDIENCE, '--duration', '1h'])).trim();

  const storage = new DiskStorage(join(dir, 'objects'));
  const modules = new MemoryInformer<Module>();
  const versions = new MemoryInformer<Version>();
  for (const name of names) {
    const src = join(dir, 'src', name);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'main.tf'), `output "name" {\n  value = "${name}"\n}\n`);
    await execFileAsync('zip', ['-q', '-X', '-r', join(dir, `${name}.zip`), '.'], { cwd: src });
    const module = moduleResource({ name, namespace: ns, provider: 'aws' });
    modules.put(module);
    versions.put(versionResource({ owner: module, version: '1.0.0', stored: await store(storage, moduleKey(module, '1.0.0'), await readFile(join(dir, `${name}.zip`))) }));
  }
  const certs = await createTestCertificates();
  await writeFile(join(dir, 'ca.pem'), certs.caPem);
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);
  const quiet = createLogger({ level: 'warn', destination: { write: () => undefined } });
  const make = (withAuth: boolean): RegistryServer => {
    let registry: RegistryServer | undefined;
    registry = createRegistryServer({
      informers: { modules, versions },
      resolveStorage: async () => storage,
      logger: quiet,
      defaultMetrics: false,
      ...(withAuth && {
        auth: {
          providers: [
            {
              name: 'kubernetes',
              provider: kubernetesProvider({
                client,
                audiences: [AUDIENCE],
                cacheTtlSeconds: 60,
                cacheMaxEntries: 10000,
                onCache: (cache, result) => registry?.metrics.authCacheLookups.inc({ cache, result }),
              }),
            },
          ],
        },
      }),
    });
    return registry;
  };
  const anonymous = make(false);
  const authed = make(true);
  const tls = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  const anonymousListening = await anonymous.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });
  const authedTls = await authed.listen({ port: 0, host: '127.0.0.1', tls, closeGraceMs: 100 });
  const authedPlain = await authed.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });

  // 1. tofu init of 20 modules with the token.
  const cliConfig = join(dir, 'cli.tfrc');
  await writeFile(cliConfig, cliConfigText(HOST, { 'modules.v1': `${authedTls.url}/opendepot/modules/v1/` }));
  const mainTf = names.map((n) => `module "${n}" {\n  source  = "${HOST}/${ns}/${n}/aws"\n  version = "1.0.0"\n}\n`).join('\n');
  const started = performance.now();
  const run = await runRegistryClient('tofu', { parentDir: dir, cliConfig, caFile: join(dir, 'ca.pem'), mainTf, env: { TF_TOKEN_opendepot_test: token } });
  const initMs = performance.now() - started;
  if (run.code !== 0) throw new Error(`tofu init failed:\n${run.output}`);
  const lookups = (await authed.metrics.authCacheLookups.get()).values;
  const count = (cache: string, result: string) => lookups.find((v) => v.labels.cache === cache && v.labels.result === result)?.value ?? 0;
  console.log(`tofu init of ${MODULE_COUNT} modules with a ServiceAccount token: ${Math.round(initMs)} ms`);
  for (const cache of ['tokenreview', 'subjectaccessreview']) {
    const hits = count(cache, 'hit');
    const misses = count(cache, 'miss');
    console.log(`  ${cache}: ${hits + misses} lookups, ${misses} API calls, hit rate ${((hits / Math.max(1, hits + misses)) * 100).toFixed(1)}%`);
  }

  // 2. versions route: anonymous vs the token (answers cached).
  const load = async (url: string, headers: Record<string, string>) =>
    (await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers })).requests.average;
  const path = `/opendepot/modules/v1/${ns}/m-0/aws/versions`;
  // Alternating rounds (after a warm-up of each), so drift on a shared machine hits both alike.
  await load(`${anonymousListening.url}${path}`, {});
  await load(`${authedPlain.url}${path}`, { authorization: `Bearer ${token}` });
  const rounds = { anonymous: [] as number[], token: [] as number[] };
  for (let i = 0; i < 2; i++) {
    rounds.anonymous.push(await load(`${anonymousListening.url}${path}`, {}));
    rounds.token.push(await load(`${authedPlain.url}${path}`, { authorization: `Bearer ${token}` }));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const anonymousRps = mean(rounds.anonymous);
  const authedRps = mean(rounds.token);
  console.log(`versions route, ${CONNECTIONS} connections, 2 rounds of ${DURATION_S} s each:`);
  console.log(`  anonymous:                 ${Math.round(anonymousRps)} req/s (${rounds.anonymous.map(Math.round).join(', ')})`);
  console.log(`  ServiceAccount token:      ${Math.round(authedRps)} req/s (${rounds.token.map(Math.round).join(', ')}); ${((authedRps / anonymousRps) * 100).toFixed(0)}% of anonymous`);

  for (const l of [anonymousListening, authedTls, authedPlain]) await l.close();
  anonymous.dispose();
  authed.dispose();
} finally {
  await client.close();
  await dropNamespace(cp, ns, ['roles', 'rolebindings', 'serviceaccounts']);
  await rm(dir, { recursive: true, force: true });
}
