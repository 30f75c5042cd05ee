/**
 * Starts a real WebDAV server (the `webdav-server` package, see webdav-server-main.ts) in a child
 * process, so that what the tests measure of this process's memory is the plugin alone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./webdav-server-main.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** A running WebDAV server. */
export interface RunningWebDav {
  /** Its root collection, e.g. `http://127.0.0.1:40123/`. */
  url: string;
  /** The directory it serves. */
  root: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Options of {@link startWebDavServer}. */
export interface WebDavServerOptions {
  /** Require HTTP Basic authentication with these credentials (letters and digits only). */
  credentials?: { username: string; password: string };
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
}

/** Starts a WebDAV server over a fresh temporary directory on a free loopback port. */
export async function startWebDavServer(options: WebDavServerOptions = {}): Promise<RunningWebDav> {
  const root = await mkdtemp(join(tmpdir(), 'opendepot-webdav-'));
  const args = [MAIN, root, ...(options.credentials ? [options.credentials.username, options.credentials.password] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...(options.host && { WEBDAV_HOST: options.host }) } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the WebDAV server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.once('exit', (code) => reject(new Error(`the WebDAV server exited with code ${code} before it was listening`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      });
    });
  } catch (err) {
    child.kill();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    root,
    async stop() {
      child.stdin!.end(); // the server exits when its input closes
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(root, { recursive: true, force: true });
    },
  };
}
