/**
 * Cold start and idle memory of the registry against a real kube-apiserver (the testbed's etcd +
 * kube-apiserver): one Module with BENCH_VERSIONS Ready Versions (default 20,000) is written
 * through the API, then a fresh server process is started per configuration and the time from
 * its spawn to the first correct `versions` answer (every version listed) is measured, and its
 * RSS after a GC once idle. Configurations:
 *  - `before`: the informers as they were (managedFields dropped, pages of 500);
 *  - `served-<n>`: the server's informers (`registryInformers`: fields the server never reads
 *    dropped) with list pages of n (0: one answer);
 *  - `streamed`: the server's informers filled by the API server's streaming list (a watch with
 *    `sendInitialEvents`); needs BENCH_WATCH_LIST=1 (the WatchList feature, off by default in v1.33);
 *  - `ceiling`: a bare process that lists every Version in one request with node:https, builds
 *    the same answer and serves it with node:http: no Node.js server can answer sooner.
 * The server processes run the compiled dist/ as in production (cold-start-server.mjs), so build first:
 *
 *   bash scripts/with-env.sh pnpm build
 *   bash scripts/with-env.sh node --conditions=opendepot-source packages/server/bench/cold-start.bench.ts
 *
 * Options (environment): BENCH_VERSIONS (default 20000), BENCH_CONFIGS (comma-separated subset),
 * BENCH_ROUNDS (default 1: rounds of all configurations, interleaved), BENCH_WATCH_LIST=1 (start
 * the kube-apiserver with the WatchList feature on, for `streamed`), BENCH_HOLD=1 (profiling by hand:
 * seed, print the servers' environment as JSON, keep the control plane until SIGINT).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createKubeClient, CORE_RESOURCES, RESOURCES, resourceClient, type KubeObject, type Module, type Version } from '@opendepot/core';
import { startControlPlane } from '@opendepot/testbed';
import { askChild } from './child-reply.ts';
import { moduleResource, versionResource } from '../test/support/fixtures.ts';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 20_000);
const CONFIGS = (process.env.BENCH_CONFIGS ?? 'before,served-500,served-5000,served-0,ceiling').split(',');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const NAMESPACE = 'bench-cold';
const VERSIONS_PATH = `/opendepot/modules/v1/${NAMESPACE}/big/aws/versions`;
const SEED_CONCURRENCY = 32;
const WATCH_LIST = process.env.BENCH_WATCH_LIST === '1';
// For profiling by hand: after seeding, print the servers' environment and keep the control plane until interrupted.
const HOLD = process.env.BENCH_HOLD === '1';

type FromChild = { type: 'ready'; url: string } | { type: 'usage'; rss: number; heapUsed: number };

const versionAt = (i: number) => `${Math.floor(i / 100)}.${i % 100}.0`;

// ---- seeding and measuring (this process) ----

async function seed(kubeconfigPath: string): Promise<void> {
  const client = createKubeClient({ kubeconfigPath });
  await resourceClient<KubeObject>(client, CORE_RESOURCES.namespace).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const big = await resourceClient<Module>(client, RESOURCES.module).create(moduleResource({ name: 'big', namespace: NAMESPACE, provider: 'aws' }));
  const versions = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'opendepot-operator' });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < VERSIONS; i = next++) {
      const version = versionAt(i);
      const { status, ...object } = versionResource({ owner: big, version, stored: { checksum: createHash('sha256').update(version).digest('hex'), size: 1000 + i } });
      // As the operator writes them: owned by their Module, labelled, with a finalizer.
      const { uid: _assignedByTheServer, ...metadata } = object.metadata;
      object.metadata = {
        ...metadata,
        labels: { 'opendepot.defdiver.io/owner': 'big', 'opendepot.defdiver.io/kind': 'Module' },
        ownerReferences: [{ apiVersion: big.apiVersion, kind: 'Module', name: 'big', uid: big.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      };
      await versions.create(object as Version);
      await versions.patchStatus(NAMESPACE, object.metadata.name!, status!);
      if ((i + 1) % 5000 === 0) console.log(`  seeded ${i + 1} Versions (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  await client.close();
}

const usage = (child: ChildProcess) => askChild<Extract<FromChild, { type: 'usage' }>>(child, {}, 'usage');

/** Spawns the server of `config` and waits for its first correct answer; returns seconds and idle RSS. */
async function coldStart(config: string, env: Record<string, string>): Promise<{ seconds: number; rssMb: number; heapMb: number }> {
  const server = fileURLToPath(new URL('cold-start-server.mjs', import.meta.url));
  const spawned = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', server, config], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const ready = await new Promise<Extract<FromChild, { type: 'ready' }>>((resolve) => child.on('message', (m: FromChild) => m.type === 'ready' && resolve(m)));
  for (;;) {
    const res = await fetch(`${ready.url}${VERSIONS_PATH}`).catch(() => undefined);
    if (res?.status === 200) {
      const answer = (await res.json()) as { modules: [{ versions: unknown[] }] };
      if (answer.modules[0].versions.length === VERSIONS) break;
    } else await res?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - spawned) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const { rss, heapUsed } = await usage(child);
  child.disconnect();
  return { seconds, rssMb: rss / 1048576, heapMb: heapUsed / 1048576 };
}

async function main(): Promise<void> {
  const plane = await startControlPlane(WATCH_LIST ? { extraApiServerArgs: ['--feature-gates=WatchList=true'] } : {});
  try {
    console.log(`seeding one Module with ${VERSIONS} Ready Versions through the kube-apiserver (${SEED_CONCURRENCY} writers)…`);
    await seed(plane.kubeconfigPath);
    const env = { BENCH_KUBECONFIG: plane.kubeconfigPath, BENCH_SERVER: plane.server, BENCH_TOKEN: plane.token, BENCH_CA: plane.caPem, BENCH_VERSIONS: String(VERSIONS) };
    if (HOLD) {
      console.log(JSON.stringify(env));
      const keepAlive = setInterval(() => {}, 60_000); // a pending promise alone would let Node exit
      await new Promise((resolve) => process.once('SIGINT', resolve));
      clearInterval(keepAlive);
      return;
    }
    const results = new Map<string, { seconds: number; rssMb: number; heapMb: number }[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const config of CONFIGS) {
        const result = await coldStart(config, env);
        results.set(config, [...(results.get(config) ?? []), result]);
        console.log(`  round ${round + 1} ${config}: first correct answer after ${result.seconds.toFixed(2)} s; idle RSS ${result.rssMb.toFixed(0)} MB (heap ${result.heapMb.toFixed(0)} MB)`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ceiling = median((results.get('ceiling') ?? []).map((r) => r.seconds));
    console.log(`cold start, ${VERSIONS} Versions (median of ${ROUNDS}); ratio = seconds / ceiling seconds:`);
    for (const [config, runs] of results) {
      const seconds = median(runs.map((r) => r.seconds));
      console.log(
        `  ${config.padEnd(12)} ${seconds.toFixed(2)} s (ratio ${ceiling ? (seconds / ceiling).toFixed(2) : '?'}), idle RSS ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB, heap ${median(runs.map((r) => r.heapMb)).toFixed(0)} MB`,
      );
    }
  } finally {
    await plane.stop();
  }
}

await main();
