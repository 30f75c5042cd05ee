/**
 * A loopback HTTPS server serving an in-memory directory tree, as a plain web server would, with
 * switches to answer every request with an error status or to stall.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:https';
import { createTestCertificates } from '@opendepot/testbed';

/** A running directory server. */
export interface DirectoryServer {
  /** `https://127.0.0.1:<port>/` */
  readonly url: string;
  /** PEM of the CA that signed the server's certificate. */
  readonly caPem: string;
  /** Paths requested, oldest first. */
  readonly requests: string[];
  /** Serves `bytes` at `path` (e.g. `/acme/vpc/index.json`). */
  put(path: string, bytes: string | Uint8Array): void;
  /** Answers `path` with a 302 to `location`. */
  redirect(path: string, location: string): void;
  /** Answers every request with `status` until called with `undefined`. */
  failWith(status: number | undefined): void;
  /** Sends an archive's headers, then nothing, until called with false (to test aborts). */
  stall(on: boolean): void;
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1. */
export async function startDirectoryServer(): Promise<DirectoryServer> {
  const certs = await createTestCertificates();
  const files = new Map<string, Buffer>();
  const redirects = new Map<string, string>();
  const requests: string[] = [];
  let failing: number | undefined;
  let stalling = false;
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    requests.push(path);
    if (failing !== undefined) return void res.writeHead(failing, { 'content-type': 'text/plain' }).end(`failing with ${failing}\n`);
    const location = redirects.get(path);
    if (location !== undefined) return void res.writeHead(302, { location }).end();
    const body = files.get(path);
    if (body === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (stalling && path.endsWith('.tar.gz')) return void res.writeHead(200, { 'content-length': String(body.length) }).flushHeaders();
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    caPem: certs.caPem,
    requests,
    put: (path, bytes) => void files.set(path, Buffer.from(bytes)),
    redirect: (path, location) => void redirects.set(path, location),
    failWith: (status) => void (failing = status),
    stall: (on) => void (stalling = on),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
