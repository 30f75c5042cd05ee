/**
 * The operator's probe and metrics endpoint (node:http, no framework):
 * - `/healthz`: the process is alive (200 unless the liveness callback says otherwise);
 * - `/readyz`: 200 when the readiness callback says so (leader or standby, caches synced), else 503;
 * - `/metrics`: the Prometheus registry in text format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Informer, KubeObject } from '@opendepot/core';
import type { Registry } from 'prom-client';
import type { LeaderElector } from './leader-election.ts';

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind. Default `0.0.0.0` (probes come from the kubelet). */
  host?: string;
  /** Readiness; a failure or a throw answers 503. */
  ready: () => boolean | Promise<boolean>;
  /** Liveness; always alive when unset. */
  live?: () => boolean | Promise<boolean>;
  /** Served at /metrics; 404 when unset. */
  registry?: Registry;
}

/** A running health server. */
export interface HealthServer {
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

async function probe(check: (() => boolean | Promise<boolean>) | undefined): Promise<boolean> {
  if (!check) return true;
  try {
    return await check();
  } catch {
    return false;
  }
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Starts the endpoint; resolves once it listens. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return (await probe(options.live)) ? send(res, 200, 'ok\n') : send(res, 503, 'not alive\n');
      case '/readyz':
        return (await probe(options.ready)) ? send(res, 200, 'ok\n') : send(res, 503, 'not ready\n');
      case '/metrics':
        if (!options.registry) return send(res, 404, 'no metrics\n');
        return send(res, 200, await options.registry.metrics(), options.registry.contentType);
      default:
        return send(res, 404, 'not found\n');
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    // Once: a second stop (SIGTERM then SIGINT) waits for the first instead of failing with ERR_SERVER_NOT_RUNNING.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

/**
 * The operator's readiness: every informer has its first list, and the elector campaigns or
 * leads (a standby is ready: it can take over at once).
 */
export function operatorReadiness(informers: readonly Informer<KubeObject>[], elector?: Pick<LeaderElector, 'state'>): () => boolean {
  return () => informers.every((i) => i.synced()) && (elector === undefined || elector.state === 'standby' || elector.state === 'leader');
}
