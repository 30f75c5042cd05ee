/**
 * Running a host's process entry (`packages/<host>/src/main.ts`) as a short-lived child, the
 * way the `--help` tests do, and checking that nothing listens on a port afterwards.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

/** How a {@link runNodeEntry} child ended and what it wrote. */
export interface NodeEntryResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --conditions=opendepot-source <file> ...args` with exactly `env` and collects its
 * output. A child still running after `timeoutMs` (a host that started instead of exiting never
 * exits by itself) is killed, so the test fails instead of hanging.
 */
export function runNodeEntry(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<NodeEntryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=opendepot-source', file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether a TCP connection to 127.0.0.1:`port` is refused (nothing listens there). */
export function portRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
