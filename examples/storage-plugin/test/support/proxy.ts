/**
 * A loopback HTTP proxy in front of the real WebDAV server that misbehaves on demand: it can
 * answer some requests itself (a 503, a 500), never answer them, cut an answer's body short, or
 * drop the `Range` header as a server without range support would. Everything else passes
 * through unchanged.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type Fault = { status: number; headers?: Record<string, string> } | { truncateAfter: number } | 'hang' | 'drop-range' | undefined;

/** A running proxy. */
export interface FaultyProxy {
  /** The proxy's URL for the target's root collection. */
  url: string;
  /** Decides each request's fault; `undefined` passes it through. Replace at will. */
  fault: (method: string, path: string) => Fault;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  close(): Promise<void>;
}

/** Starts a proxy to `target` (a WebDAV server's root URL) on a free loopback port. */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const hanging = new Set<ServerResponse>();
  const proxy: FaultyProxy = { url: '', fault: () => undefined, seen: [], close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    proxy.seen.push(`${req.method} ${path}`);
    const fault = proxy.fault(req.method ?? 'GET', decodeURIComponent(path));
    if (fault === 'hang') {
      hanging.add(res);
      req.resume();
      return;
    }
    if (typeof fault === 'object' && 'status' in fault) {
      req.resume();
      res.writeHead(fault.status, fault.headers).end(`fault ${fault.status}`);
      return;
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    if (fault === 'drop-range') delete headers.range;
    // Destinations of MOVE name the proxy: point them at the upstream.
    if (typeof headers.destination === 'string') headers.destination = headers.destination.replace(proxy.url, upstream.href);
    const forward = request(new URL(path, upstream), { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (typeof fault === 'object' && 'truncateAfter' in fault) {
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= fault.truncateAfter) return;
          const part = chunk.subarray(0, fault.truncateAfter - sent);
          sent += chunk.byteLength;
          if (sent < fault.truncateAfter) {
            res.write(part);
            return;
          }
          answer.destroy();
          res.write(part, () => res.socket?.destroy()); // the connection drops mid-body
        });
        return;
      }
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  proxy.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
