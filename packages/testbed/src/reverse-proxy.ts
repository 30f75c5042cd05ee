/**
 * A reverse proxy on loopback that serves a registry under a path prefix, as an Ingress or a
 * company gateway does: HTTPS in front (the test CA's certificate), plain HTTP to the target,
 * the prefix stripped on the way in, and `X-Forwarded-Proto`, `-Host` and `-Prefix` added.
 * Records each request path it forwarded, so a test can tell what the clients fetched through it.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Options of {@link startReverseProxy}. */
export interface ReverseProxyOptions {
  /** The upstream origin, e.g. `http://127.0.0.1:8080`. */
  target: string;
  /** The prefix clients use, e.g. `/registry` (no trailing slash). */
  prefix: string;
  certPem: string;
  keyPem: string;
}

/** A running {@link startReverseProxy}. */
export interface ReverseProxy {
  /** `https://127.0.0.1:<port><prefix>`. */
  url: string;
  /** Paths (with query) of the forwarded requests, as the clients sent them. */
  forwarded: string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** Starts the proxy on 127.0.0.1; requests outside the prefix get a 404 from the proxy itself. */
export async function startReverseProxy(options: ReverseProxyOptions): Promise<ReverseProxy> {
  const forwarded: string[] = [];
  const target = new URL(options.target);
  const server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith(`${options.prefix}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not under the proxy prefix\n');
      return;
    }
    forwarded.push(path);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: path.slice(options.prefix.length),
        headers: {
          ...endToEnd(req.headers),
          host: target.host,
          'x-forwarded-proto': 'https',
          'x-forwarded-host': req.headers.host ?? '',
          'x-forwarded-prefix': options.prefix,
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}${options.prefix}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
