/**
 * Fuzz run (fast-check, fixed seed) of the route parameters over real HTTP: module, provider and
 * mirror paths whose namespace, name, system/type, version, os, arch and file segments are
 * random, percent-encoded, malformed or hostile get a well-formed answer (a status the route
 * means, a JSON `errors` body for errors), never a 500 and never a hang; the real addresses
 * mixed in keep answering 200.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSigningKey } from '@opendepot/testbed';
import { signingKeyOf } from '../src/index.ts';
import { moduleKey, moduleResource, NS, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

// Fixed, so runs repeat; OPENDEPOT_FUZZ_SEED explores others (a finding becomes a regular test).
const SEED = Number(process.env.OPENDEPOT_FUZZ_SEED ?? 20261202);
const HANG_MS = 10_000;
/** What a registry route may answer; anything else (above all a 500) is a bug. */
const EXPECTED = new Set([200, 204, 206, 302, 307, 400, 404, 405, 406, 409, 416, 503]);

let r: TestRegistry;
const eks = moduleResource({ name: 'eks', provider: 'aws' });

test.before(async () => {
  r = await startTestRegistry({ signingKey: await signingKeyOf((await createSigningKey({ name: 'OpenDepot Fuzz' })).privateKeyArmored) });
  r.modules.put(eks);
  r.versions.put(versionResource({ owner: eks, version: '1.0.0', stored: await store(r.storage, moduleKey(eks, '1.0.0'), randomBytes(512)) }));
  // Not servable: one still syncing (503), one whose status names a foreign key (409).
  r.versions.put(versionResource({ owner: eks, version: '2.0.0' }));
  r.versions.put(
    versionResource({
      owner: eks,
      version: '3.0.0',
      stored: { ...(await store(r.storage, moduleKey(eks, '3.0.0'), randomBytes(64))), storageKey: 'modules/elsewhere/eks/aws/3.0.0/eks-aws-3.0.0.zip' },
    }),
  );
  const hello = await providerPackage('hello', '1.0.0', 'linux', 'amd64');
  r.versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os: 'linux', arch: 'amd64', stored: await storeProvider(r.storage, NS, hello) }));
});

test.after(async () => {
  await r?.close();
});

/** Runs `property` with the fixed seed and prints the count (for the fuzz note). */
async function fuzz(name: string, numRuns: number, property: fc.IAsyncProperty<never>): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property, { seed: SEED, numRuns });
  console.log(`fuzz ${name}: seed ${SEED}, ${details.numRuns} runs, ${details.numSkips} skipped, ${Math.round(performance.now() - started)} ms`);
  if (details.failed) assert.unreachable(`${fc.defaultReportMessage(details) ?? `${name} failed`}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`);
}

/** A GET of a raw path (sent as written: no normalisation of dots or escapes), with its status, type and body. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(r.url);
    const req = request({ host: url.hostname, port: url.port, path, headers, agent: false, timeout: HANG_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${HANG_MS} ms: ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

// Segments: the real values, near misses, hostile text, and random text (percent-encoded, or raw where HTTP allows it).
const hostile = fc.constantFrom(
  '',
  '.',
  '..',
  '%2e%2e',
  '%2E%2E%2F',
  '%2F',
  '%5C',
  '%00',
  '%',
  '%%',
  '%zz',
  '%E0%A4',
  '%C0%AF',
  '%FF',
  '%F0%9F%98',
  '..%2F..%2Fetc',
  '~',
  'v',
  'v1',
  '1.0',
  '1.0.0.0',
  '1.0.0-01',
  '99999999999999999999.0.0',
  '-1.0.0',
  '1.0.0+',
  'a'.repeat(300),
  '1'.repeat(400),
  'index.json',
  'versions',
  'download',
  'SHA256SUMS',
  'SHA256SUMS.sig',
  'archive.zip',
  'archive.tar.gz',
  '.zip',
  'x.zip.zip',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
);
const real = fc.constantFrom(
  NS,
  'eks',
  'aws',
  'hello',
  '1.0.0',
  'v1.0.0',
  '1.0',
  '1',
  '1.0.0+build',
  '2.0.0',
  '3.0.0',
  'linux',
  'amd64',
  'registry.terraform.io',
  'hashicorp',
  'terraform-provider-hello_1.0.0_linux_amd64',
  'eks-aws-1.0.0.zip',
  'eks-aws-1.0.0.tar.gz',
);
const rawSafe = fc.string({ unit: fc.constantFrom(..."abcxyzAZ019._-~!$&'()*+,;=:@%".split('')), maxLength: 24 });
const encoded = fc.string({ unit: 'grapheme', maxLength: 16 }).map(encodeURIComponent);
const segment = fc.oneof({ weight: 3, arbitrary: real }, { weight: 3, arbitrary: hostile }, { weight: 2, arbitrary: rawSafe }, { weight: 2, arbitrary: encoded });

const M = '/opendepot/modules/v1';
const P = '/opendepot/providers/v1';
const X = '/opendepot/mirror/v1';
/** Each route with the real value of each of its parameters; the fuzz keeps or replaces each one. */
const ROUTES: { real: string[]; path: (s: string[]) => string }[] = [
  { real: [NS, 'eks', 'aws'], path: ([a, b, c]) => `${M}/${a}/${b}/${c}/versions` },
  { real: [NS, 'eks', 'aws', '1.0.0'], path: ([a, b, c, d]) => `${M}/${a}/${b}/${c}/${d}/download` },
  { real: [NS, 'eks', 'aws', '1.0.0', 'eks-aws-1.0.0.zip'], path: ([a, b, c, d, e]) => `${M}/${a}/${b}/${c}/${d}/${e}` },
  { real: [NS, 'hello'], path: ([a, b]) => `${P}/${a}/${b}/versions` },
  { real: [NS, 'hello', '1.0.0', 'linux', 'amd64'], path: ([a, b, c, d, e]) => `${P}/${a}/${b}/${c}/download/${d}/${e}` },
  { real: [NS, 'hello', '1.0.0'], path: ([a, b, c]) => `${P}/${a}/${b}/${c}/SHA256SUMS` },
  { real: [NS, 'hello', '1.0.0'], path: ([a, b, c]) => `${P}/${a}/${b}/${c}/SHA256SUMS.sig` },
  { real: [NS, 'hello', '1.0.0', 'terraform-provider-hello_1.0.0_linux_amd64'], path: ([a, b, c, d]) => `${P}/${a}/${b}/${c}/${d}.zip` },
  { real: ['registry.terraform.io', 'hashicorp', 'hello'], path: ([a, b, c]) => `${X}/${a}/${b}/${c}/index.json` },
  { real: ['registry.terraform.io', 'hashicorp', 'hello', '1.0.0'], path: ([a, b, c, d]) => `${X}/${a}/${b}/${c}/${d}.json` },
  // Any number of segments under each prefix.
  { real: [NS, 'eks', 'aws', '1.0.0', 'download', 'x', 'y'], path: (s) => `${[M, P, X][s.length % 3]}/${s.join('/')}` },
];
// Per parameter: keep the real value (so deeper checks are reached) or replace it.
const choice = fc.array(fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: segment }), { minLength: 7, maxLength: 7 });

test('random and hostile route parameters get a well-formed answer, never a 500 or a hang', async () => {
  let answered = 0;
  const statuses = new Map<number, number>();
  await fuzz(
    'route parameters',
    2000,
    fc.asyncProperty(
      fc.integer({ min: 0, max: ROUTES.length - 1 }),
      choice,
      fc.integer({ min: 0, max: 2 }),
      fc.constantFrom('', '?x=1', '?checksum=%zz', '?digest=%', '?archive=tar.gz'),
      fc.boolean(),
      async (index, replaced, drop, query, json) => {
        const route = ROUTES[index]!;
        const segments = route.real.map((value, i) => replaced[i] ?? value);
        const path = route.path(index === ROUTES.length - 1 ? segments.slice(0, segments.length - drop) : segments) + query;
        const res = await get(path, json ? { Accept: 'application/json' } : {});
        answered++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(EXPECTED.has(res.status), `${res.status} for ${path}: ${res.body.toString().slice(0, 300)}`);
        if (res.status >= 400 && res.status !== 405) {
          assert.match(res.type, /^application\/json/, `${path}`);
          const body = JSON.parse(res.body.toString()) as { errors?: unknown };
          assert.ok(Array.isArray(body.errors) && body.errors.every((e) => typeof e === 'string'), `${path}: ${res.body.toString()}`);
        }
      },
    ) as never,
  );
  console.log(`fuzz route parameters: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))} (${answered} requests)`);
  assert.equal(
    r.logs.filter((l) => l.level === 'error' || l.level === 50).map((l) => l.msg),
    [],
    'no unexpected error was logged',
  );
});

test('the real addresses still answer 200 after the fuzz run', async () => {
  for (const path of [
    `${M}/${NS}/eks/aws/versions`,
    `${M}/${NS}/eks/aws/1.0.0/download`,
    `${P}/${NS}/hello/versions`,
    `${P}/${NS}/hello/1.0.0/download/linux/amd64`,
    `${P}/${NS}/hello/1.0.0/SHA256SUMS`,
  ]) {
    const res = await get(path);
    assert.ok(res.status === 200 || res.status === 204, `${res.status} for ${path}`);
  }
});

test.run();
