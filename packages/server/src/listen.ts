/** Binds a request handler to a port, over HTTPS when certificate files are given. */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Where and how to listen. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind, e.g. `0.0.0.0`, `::` or `127.0.0.1`. Default: Node's (all addresses). */
  host?: string;
  /** PEM files of the server certificate (with its chain) and key. Without it: plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** How long `close()` lets running requests (downloads) finish before cutting them. Default 10 s. */
  closeGraceMs?: number;
}

/** A listening server. */
export interface ListeningServer {
  /** Base URL, e.g. `https://127.0.0.1:8443`. */
  url: string;
  server: Server;
  /** Stops accepting, closes idle keep-alive connections, and ends the rest after the grace period. */
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export async function listen(handler: RequestListener, options: ListenOptions): Promise<ListeningServer> {
  const server: Server = options.tls
    ? createHttpsServer({ cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const unspecified = address.address === '0.0.0.0' || address.address === '::';
  const host = unspecified ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
