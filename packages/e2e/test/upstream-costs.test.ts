/**
 * Issue 10 §2 acceptance, against the real kube-apiserver and the real operator (concurrency 4):
 * - a hostile upstream serves a signed 4.5 MB zip bomb (65,535 central-directory records all
 *   pointing at one 1 GiB deflated entry): the Version ends Stalled (LimitExceeded) at once;
 * - an upstream drips one byte every 500 ms into four Versions: each ends Stalled
 *   (UpstreamTooSlow) within the bound and is retried with backoff;
 * - meanwhile a Module in another namespace syncs normally;
 * - with a minimum rate the drip satisfies (so nothing would cut it), deleting the Provider
 *   cancels the dripping work and frees the workers at once;
 * - memory: what the hostile upstreams and the 19,990-link repository add to this process
 *   (operator, server, stand-ins and test together) is bounded; peaks are printed.
 * Figures are printed for the issue's note.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropNamespace, freshNamespace } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { calmModule, createManyLinksRepo, hostileProviders, manyLinksModule, startHostileReleases, type HostileReleases } from './support/hostile-upstreams.ts';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Condition } from './support/resources.ts';

interface Obj {
  metadata: { name: string };
  status?: { conditions?: Condition[] };
}

let env: RegistryEnv;
let hostile: HostileReleases;
let otherNamespace = '';
let scratch = '';
let providers: Record<string, unknown> = {};
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
const figures: string[] = [];

const limits = { upstreamIdleTimeoutSeconds: 3, upstreamMinBytesPerSecond: 1024 };

const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
async function versionsOf(owner: string, namespace = env.namespace): Promise<Obj[]> {
  const r = await env.kubectl(['get', 'versions', '-n', namespace, '-l', `opendepot.defdev.io/owner-name=${owner}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
}

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-e2e-costs-'));
  hostile = await startHostileReleases();
  figures.push(`zip bomb: ${(hostile.bombBytes / 1e6).toFixed(1)} MB, 65,535 records -> one 1 GiB entry`);
  providers = hostile.providers;
  env = await startRegistryEnv({ config: { operator: { providers, limits } } });
  otherNamespace = await freshNamespace(env.cp, 'e2e-other');
  // Watch both namespaces (the environment watches its own only).
  await env.restartOperator({
    operator: {
      providers,
      limits,
      watchNamespaces: [env.namespace, otherNamespace],
    },
  });
});

test.after(async () => {
  clearInterval(sampler);
  console.log(`figures:\n  ${[...figures, `peak RSS of the test process (operator + server + stand-ins): ${(peakRss / 1048576).toFixed(0)} MiB`].join('\n  ')}`);
  await env?.stop();
  await dropNamespace(env.cp, otherNamespace).catch(() => undefined);
  await hostile?.close();
  await rm(scratch, { recursive: true, force: true });
});

test('the zip bomb, four dripping Versions, and another namespace syncing at the same time', async () => {
  const rssBefore = peakRss;
  const began = performance.now();
  await env.apply(...hostileProviders());
  const module = await calmModule(scratch, otherNamespace);
  // Let the drips take the workers first.
  await eventually('the drip Versions are fetching', async () => (await versionsOf('drip')).length === 4 || undefined, 60_000);
  const moduleApplied = performance.now();
  const r = await env.kubectl(['apply', '-f', '-'], JSON.stringify(module));
  assert.is(r.code, 0, r.stderr);

  const stalledBomb = await eventually(
    'the bomb Version is Stalled',
    async () => {
      const [v] = await versionsOf('bomb');
      const c = condition(v, 'Stalled');
      return c?.status === 'True' ? c : undefined;
    },
    120_000,
  );
  figures.push(`zip bomb -> Stalled in ${((performance.now() - began) / 1000).toFixed(1)} s: ${stalledBomb.reason}: ${stalledBomb.message.slice(0, 160)}`);
  assert.is(stalledBomb.reason, 'LimitExceeded');
  assert.match(stalledBomb.message, /65535 entries.*operator\.limits\.providerZipMaxEntries/);

  const calm = await eventually(
    "the other namespace's Module is Ready",
    async () => {
      const r2 = await env.kubectl(['get', 'module', 'calm', '-n', otherNamespace, '-o', 'json']);
      const m = r2.code === 0 ? (JSON.parse(r2.stdout) as Obj) : undefined;
      return condition(m, 'Ready')?.status === 'True' ? m : undefined;
    },
    90_000,
  );
  assert.ok(calm);
  figures.push(`other namespace's Module Ready ${((performance.now() - moduleApplied) / 1000).toFixed(1)} s after it was applied`);

  const drips = await eventually(
    'every dripping Version is Stalled with UpstreamTooSlow',
    async () => {
      const list = await versionsOf('drip');
      const stalled = list.map((v) => condition(v, 'Stalled')).filter((c) => c?.status === 'True' && c.reason === 'UpstreamTooSlow');
      return stalled.length === 4 ? stalled : undefined;
    },
    120_000,
  );
  figures.push(`4 dripping Versions -> Stalled (UpstreamTooSlow) within ${((performance.now() - began) / 1000).toFixed(1)} s: ${drips[0]!.message.slice(0, 200)}`);
  assert.match(drips[0]!.message, /operator\.limits\.upstream(MinBytesPerSecond|IdleTimeoutSeconds).*retrying/);
  // Retried with backoff: more attempts show up as a growing Event count, not one Event per attempt.
  const attempts = await eventually(
    'a retry',
    async () => {
      const ev = await env.kubectl(['get', 'events', '-n', env.namespace, '-o', 'json']);
      const items = (JSON.parse(ev.stdout) as { items: { reason: string; count?: number }[] }).items.filter((e) => e.reason === 'UpstreamTooSlow');
      const total = items.reduce((n, e) => n + (e.count ?? 1), 0);
      return total > 4 ? { events: items.length, total } : undefined;
    },
    90_000,
  );
  figures.push(`drip retries: ${attempts.total} attempts recorded in ${attempts.events} Events`);
  // This process also runs the server, the stand-ins and the test; the hostile upstreams may add little.
  const grew = (peakRss - rssBefore) / 1048576;
  figures.push(`hostile phase: peak RSS ${(peakRss / 1048576).toFixed(0)} MiB, +${grew.toFixed(0)} MiB`);
  assert.ok(grew < 128, `RSS grew by ${grew} MiB`);
});

test('a module repository with 19,990 symlinks and four tags: every Version Ready, memory bounded', async () => {
  const repo = await createManyLinksRepo(scratch);
  const before = peakRss;
  const began = performance.now();
  await env.apply(manyLinksModule(repo.url));
  await eventually(
    'the four Versions are Ready',
    async () => {
      const list = await versionsOf('links');
      return list.length === 4 && list.every((v) => condition(v, 'Ready')?.status === 'True') ? list : undefined;
    },
    240_000,
  );
  const seconds = (performance.now() - began) / 1000;
  const grew = (peakRss - before) / 1048576;
  figures.push(`19,990-link repo, 4 tags: all Versions Ready in ${seconds.toFixed(1)} s; peak RSS ${(peakRss / 1048576).toFixed(0)} MiB, +${grew.toFixed(0)} MiB`);
  // Four 20,000-entry archives at once (the audited operator grew by 434 MiB on this repository).
  assert.ok(grew < 256, `RSS grew by ${grew} MiB`);
});

test('with a minimum rate the drip meets, deleting the Provider cancels its work and frees the workers at once', async () => {
  await env.restartOperator({
    operator: {
      providers,
      limits: { upstreamIdleTimeoutSeconds: 60, upstreamMinBytesPerSecond: 1 },
      watchNamespaces: [env.namespace, otherNamespace],
    },
  });
  // The Versions are fetching (their bodies drip at 2 bytes/s, which this configuration allows).
  let last = '';
  await eventually(
    'the drip Versions are fetching again',
    async () => {
      const list = await versionsOf('drip');
      last = JSON.stringify(list.map((v) => v.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`)));
      // Three, not four: one namespace holds at most concurrency - 1 workers (operator.limits.maxInFlightPerNamespace).
      return list.length === 4 && list.filter((v) => condition(v, 'Reconciling')?.reason === 'Progressing').length === 3 ? list : undefined;
    },
    90_000,
  ).catch((err: unknown) => {
    console.log(last, JSON.stringify(env.logs.filter((l) => l.level !== 'debug' && l.level !== 20).slice(-15)));
    throw err;
  });
  const began = performance.now();
  const del = await env.kubectl(['delete', 'provider', 'drip', '-n', env.namespace, '--wait=false']);
  assert.is(del.code, 0, del.stderr);
  await eventually(
    'the Provider and its Versions are gone',
    async () => {
      const p = await env.kubectl(['get', 'provider', 'drip', '-n', env.namespace]);
      return p.code !== 0 && (await versionsOf('drip')).length === 0 ? true : undefined;
    },
    60_000,
  );
  const seconds = (performance.now() - began) / 1000;
  figures.push(`deleting the dripping Provider: gone in ${seconds.toFixed(1)} s (its fetches cancelled)`);
  // Without cancellation the deletion waits for the reconcile deadline (operator.limits.reconcileTimeoutSeconds, 900 s).
  assert.ok(seconds < 45, `${seconds} s`);
});

test.run();
