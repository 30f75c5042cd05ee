/**
 * Issue 10 §4, the audit's attack on the real server process: 300 clients ask for a 100 MB module
 * archive (filesystem storage) and never read a byte. The server runs as the image runs it (its
 * process entry, configuration file, plugin-fs, `--max-semi-space-size=1` as the chart sets),
 * against the real kube-apiserver. Every download must be cut once its socket has taken nothing
 * for `server.limits.sendIdleTimeoutSeconds` (those over `maxConnections` are closed at once),
 * every descriptor released (counted in /proc/<pid>/fd), and the process's peak RSS must stay
 * under the chart's memory limit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostConfigSchema } from '@opendepot/core';
import { moduleStorageKey } from '@opendepot/operator';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { dropNamespace, freePort, freshNamespace, kubectl, runNodeEntry, startProcess, useControlPlane, waitFor, type ManagedProcess } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';

const CLIENTS = 300;
// The default connection cap: connections beyond it are closed as soon as they are accepted.
const CAP = hostConfigSchema.properties.server.properties.limits.properties.maxConnections.default;
const SERVED = Math.min(CLIENTS, CAP);
const ARCHIVE_BYTES = 100 * 1024 * 1024;
const SEND_IDLE_SECONDS = 5;
// Generous: the machine is shared by several suites. The point is "cut", not "cut fast".
const CUT_BOUND_MS = (SEND_IDLE_SECONDS + 40) * 1000;

const packages = fileURLToPath(new URL('../../', import.meta.url));
const chartValues = parse(readFileSync(join(packages, '..', 'charts', 'opendepot', 'values.yaml'), 'utf8')) as { server: { resources: { limits: { memory: string } } } };
const plane = await useControlPlane();
const ns = await freshNamespace(plane, 'shed');
const dir = await mkdtemp(join(tmpdir(), 'opendepot-shed-'));
const storagePath = join(dir, 'storage');
let server: ManagedProcess | undefined;
const sockets: Socket[] = [];

/** `256Mi` → bytes. */
function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (m === null) throw new Error(`unexpected memory quantity ${q}`);
  const units: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return Number(m[1]) * units[m[2] ?? '']!;
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

test.after(async () => {
  for (const s of sockets) s.destroy();
  await server?.stop();
  await dropNamespace(plane, ns);
  await rm(dir, { recursive: true, force: true });
});

test('300 never-read downloads of a 100 MB archive are cut, release every descriptor, and stay under the chart memory limit', async () => {
  // The archive, stored where the operator would store it, and its Module and Ready Version.
  const key = moduleStorageKey(ns, 'big', 'aws', '1.0.0', 'zip');
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  const info = await new FilesystemStorage({ path: storagePath }).put(
    key,
    (async function* () {
      for (let i = 0; i < ARCHIVE_BYTES / block.length; i++) {
        const chunk = Buffer.concat([Buffer.from(String(i).padStart(8, '0')), block.subarray(8)]);
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
  assert.is(info.sha256, hash.digest('hex'));
  const k = (args: string[], input?: string) => kubectl(plane, ['-n', ns, ...args], input === undefined ? {} : { input });
  const manifest = [
    { apiVersion: 'opendepot.defdev.io/v1alpha1', kind: 'Module', metadata: { name: 'big' }, spec: { moduleConfig: { name: 'big', provider: 'aws', repoUrl: 'https://example.test/big.git' } } },
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Version',
      metadata: { name: 'big-1-0-0' },
      spec: {
        kind: 'Module',
        ownerName: 'big',
        version: '1.0.0',
        fileFormat: 'zip',
        module: { name: 'big', provider: 'aws', repoUrl: 'https://example.test/big.git' },
        storageConfig: { filesystem: { path: storagePath } },
      },
    },
  ];
  const applied = await k(['apply', '-f', '-'], manifest.map((m) => JSON.stringify(m)).join('\n---\n'));
  assert.is(applied.code, 0, applied.stderr);
  const status = {
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: 'stored and verified', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      checksum: info.sha256,
      size: info.size,
      storageKey: key,
    },
  };
  const patched = await k(['patch', 'version', 'big-1-0-0', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
  assert.is(patched.code, 0, patched.stderr);

  // The server process, configured as the chart does apart from a short idle timeout (test time).
  const port = await freePort();
  const metricsPort = await freePort();
  const config = join(dir, 'server.yaml');
  await writeFile(
    config,
    [
      `namespace: ${ns}`,
      'plugins:',
      '  - package: "@opendepot/plugin-fs"',
      'defaultStorageConfig:',
      `  filesystem: { path: ${storagePath} }`,
      `server: { host: 127.0.0.1, port: ${port}, metricsPort: ${metricsPort}, limits: { sendIdleTimeoutSeconds: ${SEND_IDLE_SECONDS} } }`,
    ].join('\n'),
  );
  const log = join(dir, 'server.log');
  // The compiled build, as the image runs it (from source, type stripping alone costs ~40 MiB).
  const built = await runNodeEntry(join(packages, '..', 'node_modules', 'typescript', 'bin', 'tsc'), ['-b', join(packages, 'server'), join(packages, 'plugin-fs')], process.env, 300_000);
  assert.is(built.code, 0, built.stdout + built.stderr);
  server = startProcess(process.execPath, [join(packages, 'server', 'dist', 'main.js'), '--config', config], {
    logFile: log,
    cwd: dir,
    env: { PATH: process.env.PATH, KUBECONFIG: plane.kubeconfigPath, NODE_OPTIONS: '--max-semi-space-size=1' },
  });
  const pid = server.child.pid!;
  const base = `http://127.0.0.1:${port}`;
  const path = `/opendepot/modules/v1/${ns}/big/aws/1.0.0/archive.zip`;
  await waitFor(`${base}/readyz`, async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 60_000);

  // One whole download first: the archive is served and verified, and the process is warm.
  const whole = await fetch(`${base}${path}`);
  assert.is(whole.status, 200);
  assert.is(
    createHash('sha256')
      .update(Buffer.from(await whole.arrayBuffer()))
      .digest('hex'),
    info.sha256,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const baselineFds = fdCount(pid);

  // The attack: each client sends its request and never reads.
  const restingRssKiB = statusKiB(pid, 'VmRSS');
  let peakFds = baselineFds;
  let peakRssKiB = restingRssKiB;
  let rssAtPeakFdsKiB = restingRssKiB;
  const sampler = setInterval(() => {
    try {
      const fds = fdCount(pid);
      const rss = statusKiB(pid, 'VmRSS');
      if (fds > peakFds) rssAtPeakFdsKiB = rss;
      peakFds = Math.max(peakFds, fds);
      peakRssKiB = Math.max(peakRssKiB, rss);
    } catch {
      // the process is gone; the assertions below say so
    }
  }, 100);
  for (let i = 0; i < CLIENTS; i++) {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => {});
    socket.write(`GET ${path} HTTP/1.1\r\nHost: attacker\r\n\r\n`);
    socket.pause();
    sockets.push(socket);
  }
  const sent = Date.now();
  const accessLines = async () =>
    (await readFile(log, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"msg":"request"') && l.includes('"route":"modules.archive"'))
      .map((l) => JSON.parse(l) as { aborted?: boolean; bytes: number; durationMs: number });
  await waitFor('every never-read download cut and its descriptors released', async () => (await accessLines()).length === SERVED + 1 && fdCount(pid) <= baselineFds + 2, CUT_BOUND_MS, 250);
  const cutMs = Date.now() - sent;
  clearInterval(sampler);
  const lines = (await accessLines()).slice(1);
  const hwmKiB = statusKiB(pid, 'VmHWM');
  const limit = quantityBytes(chartValues.server.resources.limits.memory);
  const durations = lines.map((l) => l.durationMs).sort((a, b) => a - b);
  const figures = {
    clients: CLIENTS,
    served: lines.length,
    refusedByCap: CLIENTS - lines.length,
    cutAllWithinMs: cutMs,
    requestDurationMs: { min: durations[0], median: durations[Math.floor(durations.length / 2)], max: durations.at(-1) },
    fds: { baseline: baselineFds, peak: peakFds, after: fdCount(pid) },
    rssMiB: {
      resting: Math.round(restingRssKiB / 1024),
      atPeakFds: Math.round(rssAtPeakFdsKiB / 1024),
      peakSampled: Math.round(peakRssKiB / 1024),
      vmHWM: Math.round(hwmKiB / 1024),
      chartLimit: limit / 1024 ** 2,
    },
    bytesSentPerClientMiB: Math.round(lines.reduce((n, l) => n + l.bytes, 0) / lines.length / 1024 ** 2),
  };
  console.log(JSON.stringify(figures));
  assert.ok(
    lines.every((l) => l.aborted === true && l.bytes < ARCHIVE_BYTES),
    'every download was cut short',
  );
  assert.is(lines.length, SERVED, 'no more downloads ran than the cap allows');
  assert.ok(peakFds >= baselineFds + SERVED, `the downloads held descriptors while they ran (peak ${peakFds}, baseline ${baselineFds})`);
  assert.ok(hwmKiB * 1024 < limit, `peak RSS ${hwmKiB} KiB stays under the chart's ${chartValues.server.resources.limits.memory}`);
  // The server still serves.
  const after = await fetch(`${base}/healthz`);
  assert.is(after.status, 200);
});

test.run();
