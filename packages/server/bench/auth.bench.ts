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
import autocannon from 'autocannon';
import { createLogger } from '@opendepot/core';
import { runRegistryClient } from '@opendepot/testbed';
import { KUBERNETES_AUTH_HOST as HOST, KUBERNETES_AUTH_TOKEN_ENV as TOKEN_ENV, startKubernetesAuthBed } from '../test/support/kubernetes-auth.ts';

const MODULE_COUNT = 20;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const AUDIENCE = 'opendepot-bench';

const bed = await startKubernetesAuthBed('auth-bench');
const ns = bed.namespace;
const names = Array.from({ length: MODULE_COUNT }, (_, i) => `m-${i}`);

try {
  for (const name of names) await bed.addModule(name);
  const token = await bed.serviceAccountToken({ modules: names }, AUDIENCE);
  const quiet = createLogger({ level: 'warn', destination: { write: () => undefined } });
  const anonymous = bed.registry(AUDIENCE, { logger: quiet, kubernetes: false });
  const authed = bed.registry(AUDIENCE, { logger: quiet, kubernetes: { cacheTtlSeconds: 60, cacheMaxEntries: 10000 } });
  const anonymousListening = await anonymous.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });
  const authedTls = await authed.listen({ port: 0, host: '127.0.0.1', tls: bed.tls, closeGraceMs: 100 });
  const authedPlain = await authed.listen({ port: 0, host: '127.0.0.1', closeGraceMs: 100 });

  // 1. tofu init of 20 modules with the token.
  const cliConfig = await bed.cliConfig(authedTls);
  const mainTf = names.map((n) => `module "${n}" {\n  source  = "${HOST}/${ns}/${n}/aws"\n  version = "1.0.0"\n}\n`).join('\n');
  const started = performance.now();
  const run = await runRegistryClient('tofu', { parentDir: bed.dir, cliConfig, caFile: bed.caFile, mainTf, env: { [TOKEN_ENV]: token } });
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
  const load = async (url: string, headers: Record<string, string>) => (await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers })).requests.average;
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
  await bed.stop();
}
