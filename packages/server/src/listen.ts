/**
 * Binds a request handler to a port, over HTTPS when certificate files are given, with explicit
 * limits on what one client may hold: header, request and keep-alive timeouts, a connection cap,
 * and an idle timeout that cuts a response whose client stopped reading.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostConfigSchema, type ServerLimits } from '@opendepot/core';

const LIMIT_FIELDS = hostConfigSchema.properties.server.properties.limits.properties;

/** `server.limits` as the configuration defaults them (one source: the schema). */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutSeconds: LIMIT_FIELDS.headersTimeoutSeconds.default,
  requestTimeoutSeconds: LIMIT_FIELDS.requestTimeoutSeconds.default,
  keepAliveTimeoutSeconds: LIMIT_FIELDS.keepAliveTimeoutSeconds.default,
  maxConnections: LIMIT_FIELDS.maxConnections.default,
  sendIdleTimeoutSeconds: LIMIT_FIELDS.sendIdleTimeoutSeconds.default,
};

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
  /** Timeouts and the connection cap; unset fields take {@link DEFAULT_LIMITS}. */
  limits?: Partial<ServerLimits>;
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
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const requestTimeout = limits.requestTimeoutSeconds * 1000;
  const httpOptions: ServerOptions = {
    requestTimeout,
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeout: Math.min(limits.headersTimeoutSeconds * 1000, requestTimeout),
    keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
    // Node checks the two timeouts above only this often (its default, 30 s, would stretch them).
    connectionsCheckingInterval: 1000,
  };
  const server: Server = options.tls
    ? createHttpsServer(
        // A TLS handshake that never finishes gets no longer than headers would (Node's default is 120 s).
        { ...httpOptions, handshakeTimeout: httpOptions.headersTimeout!, cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) },
        handler,
      )
    : createHttpServer(httpOptions, handler);
  // Connections over the cap are closed as soon as they are accepted.
  server.maxConnections = limits.maxConnections;
  // Socket inactivity, reads and writes alike: a client that stops reading a download leaves the
  // socket's buffer full and nothing moves, so Node destroys the socket after this long. The
  // response's 'close' then destroys the storage stream and releases its descriptor.
  server.setTimeout(limits.sendIdleTimeoutSeconds * 1000);
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
