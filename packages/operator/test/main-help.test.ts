/** `main.js --help` prints the usage and exits 0 without starting the operator. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { ENV_MAPPINGS } from '@opendepot/core';
import { freePort } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=opendepot-source', MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A started operator never exits by itself: kill it so the test fails instead of hanging.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

for (const flag of ['--help', '-h']) {
  test(`${flag} prints the usage with --config and every variable, exits 0 and serves nothing`, async () => {
    const port = await freePort();
    const env = { ...process.env, OPENDEPOT_HEALTH_PORT: String(port), KUBECONFIG: '/nonexistent' };
    const { code, stdout, stderr } = await run([flag, '--config', '/nonexistent/config.yaml'], env);
    assert.is(code, 0, stderr);
    assert.is(stderr, '');
    assert.match(stdout, /^Usage: node main\.js \[--config FILE\]/);
    assert.match(stdout, /--config FILE/);
    assert.match(stdout, /-h, --help/);
    for (const name of ['OPENDEPOT_CONFIG', 'OPENDEPOT_HEALTH_PORT', ...ENV_MAPPINGS.map((m) => m.name)]) assert.ok(stdout.includes(`  ${name} `), `${name} is listed`);
    assert.not.match(stdout, /^\{/m, 'no log line: nothing was started');
    assert.ok(await refused(port), 'nothing listens on the health port');
  });
}

test.run();
