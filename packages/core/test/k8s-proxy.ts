/**
 * A tiny HTTP proxy on loopback between a client and the real kube-apiserver, for failure tests
 * of the Kubernetes layer: it can cut every connection (network failure), freeze open watch
 * streams (a half-open connection that delivers nothing), send the next watch to the API server
 * with a stale resourceVersion (so the real server answers 410 Gone), or end open watches with
 * a 410 ERROR event. Everything else passes through to the API server unchanged.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface OpenWatch {
  res: ServerResponse;
  abortUpstream: () => void;
  frozen: boolean;
}

/** The proxy's controls. */
export interface ApiProxy {
  /** A kubeconfig whose server is the proxy. */
  kubeconfigPath: string;
  /** Watch requests seen so far, with their query parameters. */
  watches: URLSearchParams[];
  /** List (non-watch GET collection) requests seen so far. */
  lists: number;
  /** Watch streams open now (their response headers have passed). */
  openWatches(): number;
  /** Destroys every connection and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  /** Open watch streams stop relaying anything (their connections stay open); new requests pass. */
  freeze(): void;
  /** The next watch goes to the API server with `resourceVersion=1`, far out of its window. */
  staleNextWatch(): void;
  /** Ends every open watch with a `410 Gone` ERROR event, as the API server does. */
  injectGone(): number;
  close(): Promise<void>;
}

const GONE_EVENT = {
  type: 'ERROR',
  object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (2)', reason: 'Expired', code: 410 },
};

/** Starts a proxy to `plane`'s API server. */
export async function startApiProxy(plane: { server: string; token: string; caPem: string }): Promise<ApiProxy> {
  const upstream = new URL(plane.server);
  const agent = new Agent({ ca: plane.caPem, keepAlive: true });
  const sockets = new Set<Socket>();
  const openWatches = new Set<OpenWatch>();
  const watches: URLSearchParams[] = [];
  let lists = 0;
  let cut = false;
  let stale = false;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    if (isWatch) {
      if (stale) {
        stale = false;
        url.searchParams.set('resourceVersion', '1');
      }
      watches.push(new URLSearchParams(url.searchParams));
    } else if (req.method === 'GET') {
      lists++;
    }
    const upstreamReq = request(
      { hostname: upstream.hostname, port: upstream.port, path: url.pathname + url.search, method: req.method, headers: { ...req.headers, host: upstream.host }, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        if (!isWatch) {
          upstreamRes.pipe(res);
          return;
        }
        const watch: OpenWatch = { res, abortUpstream: () => upstreamReq.destroy(), frozen: false };
        openWatches.add(watch);
        upstreamRes.on('data', (chunk: Buffer) => {
          if (!watch.frozen && !res.writableEnded) res.write(chunk);
        });
        upstreamRes.on('end', () => {
          openWatches.delete(watch);
          if (!watch.frozen) res.end();
        });
        upstreamRes.on('error', () => res.destroy());
        res.on('close', () => {
          openWatches.delete(watch);
          upstreamReq.destroy();
        });
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    if (cut) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const dir = await mkdtemp(join(tmpdir(), 'opendepot-proxy-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    `apiVersion: v1
kind: Config
clusters:
- name: proxy
  cluster:
    server: http://127.0.0.1:${port}
    # client-node refuses plain HTTP unless told the connection is deliberately unverified.
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ${plane.token}
contexts:
- name: proxy
  context:
    cluster: proxy
    user: admin
current-context: proxy
`,
  );

  return {
    kubeconfigPath,
    watches,
    get lists() {
      return lists;
    },
    openWatches() {
      return openWatches.size;
    },
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
      for (const w of openWatches) w.abortUpstream();
      openWatches.clear();
    },
    restore() {
      cut = false;
    },
    freeze() {
      for (const w of openWatches) w.frozen = true;
    },
    staleNextWatch() {
      stale = true;
    },
    injectGone() {
      let n = 0;
      for (const w of openWatches) {
        w.frozen = true;
        w.res.end(`${JSON.stringify(GONE_EVENT)}\n`);
        w.abortUpstream();
        n++;
      }
      openWatches.clear();
      return n;
    },
    async close() {
      cut = true;
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  } as ApiProxy;
}
