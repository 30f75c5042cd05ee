/**
 * The operator's and the server's process entries as the image runs them: the configuration file
 * in a directory far from any node_modules (like /etc/opendepot), no pluginsDir, and the
 * kubelet's service-link variables for a Service named `opendepot-server` in the environment.
 * Both must load the first-party plugin from their own dependencies and start.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropNamespace, freePort, freshNamespace, SERVICE_LINK_ENV, startProcess, useControlPlane, waitFor, type ManagedProcess } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const plane = await useControlPlane();
const ns = await freshNamespace(plane, 'hostproc');
const etc = await mkdtemp(join(tmpdir(), 'opendepot-etc-'));
const data = await mkdtemp(join(tmpdir(), 'opendepot-data-'));
const started: ManagedProcess[] = [];

async function start(host: 'server' | 'operator', port: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ proc: ManagedProcess; log: string }> {
  const config = join(etc, `${host}.yaml`);
  await writeFile(
    config,
    [
      `namespace: ${ns}`,
      'plugins:',
      '  - package: "@opendepot/plugin-fs"',
      'defaultStorageConfig:',
      `  filesystem: { path: ${data} }`,
      `server: { host: 127.0.0.1, port: ${port}, metricsPort: ${await freePort()} }`,
      `operator: { leaderElection: { enabled: true, leaseName: hostproc-${ns} }, watchNamespaces: [${ns}] }`,
    ].join('\n'),
  );
  const log = join(etc, `${host}.log`);
  const proc = startProcess(process.execPath, ['--conditions=opendepot-source', join(packages, host, 'src', 'main.ts'), '--config', config], {
    logFile: log,
    // Started from the config's directory, so nothing can resolve from the workspace's node_modules by accident.
    cwd: etc,
    env: { PATH: process.env.PATH, KUBECONFIG: plane.kubeconfigPath, OPENDEPOT_HEALTH_PORT: String(port), ...SERVICE_LINK_ENV, ...extraEnv },
  });
  started.push(proc);
  return { proc, log };
}

/** Whether the log has the loader's line for plugin-fs (JSON lines; field order is the logger's). */
const loadedFs = (log: string) => log.split('\n').some((l) => l.includes('"msg":"plugin loaded"') && l.includes('"package":"@opendepot/plugin-fs"'));

async function answers(url: string, proc: ManagedProcess, log: string): Promise<void> {
  await waitFor(
    url,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`the process exited (${proc.child.exitCode}): ${(await readFile(log, 'utf8')).slice(-1500)}`);
      return (await fetch(url).catch(() => undefined))?.status === 200;
    },
    60_000,
  );
}

test('the server starts with plugin-fs from its own dependencies and ignores service links', async () => {
  const port = await freePort();
  const { proc, log } = await start('server', port);
  await answers(`http://127.0.0.1:${port}/readyz`, proc, log);
  const discovery = (await (await fetch(`http://127.0.0.1:${port}/.well-known/terraform.json`)).json()) as Record<string, string>;
  assert.ok(discovery['modules.v1'], JSON.stringify(discovery));
  const text = await readFile(log, 'utf8');
  assert.match(text, /ignored OPENDEPOT_SERVER_PORT=tcp:\/\/10\.0\.0\.107:443: it is a Kubernetes service-link variable/);
  assert.ok(loadedFs(text), text);
});

test('the operator starts with plugin-fs from its own dependencies and ignores service links', async () => {
  const port = await freePort();
  const { proc, log } = await start('operator', port);
  await answers(`http://127.0.0.1:${port}/healthz`, proc, log);
  const text = await readFile(log, 'utf8');
  assert.ok(loadedFs(text), text);
});

test('SIGTERM then SIGINT stop each cleanly: exit 0, no ERR_SERVER_NOT_RUNNING, nothing left in its temp directory', async () => {
  for (const host of ['server', 'operator'] as const) {
    const tmp = await mkdtemp(join(tmpdir(), `opendepot-tmp-${host}-`));
    const port = await freePort();
    const { proc, log } = await start(host, port, { TMPDIR: tmp });
    await answers(`http://127.0.0.1:${port}/${host === 'server' ? 'readyz' : 'healthz'}`, proc, log);
    // Two signals, as a terminal's Ctrl-C after a container runtime's SIGTERM: the second waits for the first stop.
    proc.child.kill('SIGTERM');
    proc.child.kill('SIGINT');
    // The child is unref'd: keep this process's loop busy meanwhile (an empty loop would end the test file).
    const busy = setInterval(() => undefined, 1000);
    const code = await proc.exited.finally(() => clearInterval(busy));
    const text = await readFile(log, 'utf8');
    assert.is(code, 0, `${host}: ${text.slice(-2000)}`);
    assert.not.match(text, 'ERR_SERVER_NOT_RUNNING', host);
    assert.not.match(text, '"level":"error"', host);
    assert.equal(await readdir(tmp), [], `${host} left temporaries in its TMPDIR`);
    await rm(tmp, { recursive: true, force: true });
  }
});

test.after(async () => {
  for (const p of started) await p.stop();
  await dropNamespace(plane, ns);
  await rm(etc, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
});

test.run();
