/**
 * The one way OpenDepot talks to the API server: a connection (kubeconfig, in-cluster or default
 * discovery, see kubeconfig.ts) for endpoint, credentials and TLS, and a small request function
 * on top of a kept-alive transport. Every kind (custom or built-in) goes through the same path,
 * any patch content type works (merge patch, server-side apply), and requests take an AbortSignal.
 */
import { isOpenDepotError } from '@opendepot/sdk';
import { clientNodeTransport } from './client-node-transport.ts';
import type { KubeConnection } from './connection.ts';
import { KubeApiError, retryAfterMsOf, toSdkError, type KubeStatus } from './errors.ts';
import { loadKubeConnection, type KubeConnectionSource } from './kubeconfig.ts';
import { httpsTransport, type KubeTransport, type TransportResponse } from './transport.ts';

/** How to reach the API server. With no option, the usual discovery: `$KUBECONFIG`, `~/.kube/config`, then in-cluster. */
export interface KubeClientOptions extends KubeConnectionSource {
  /** An already resolved connection (the other sources are then ignored). */
  connection?: KubeConnection;
  /** Timeout of a request that is not a watch, 30 s by default. */
  requestTimeoutMs?: number;
  /** `User-Agent` of every request, e.g. `opendepot-operator/0.1.0`. */
  userAgent?: string;
}

/** One API request. `body` is sent as JSON. */
export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute API path, e.g. `/apis/opendepot.defdev.io/v1alpha1/namespaces/x/modules`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of `body`; `application/json` by default. */
  contentType?: string;
  signal?: AbortSignal;
  /** Overrides the client's request timeout; for a stream, the time allowed until the headers arrive. */
  timeoutMs?: number;
}

/** A connection to one API server. */
export interface KubeClient {
  /** The connection: server, TLS material and credentials. */
  readonly connection: KubeConnection;
  /** Base URL of the API server. */
  readonly server: string;
  /** The namespace of the kubeconfig's context, or of the pod's service account, else `default`. */
  readonly namespace: string;
  /**
   * Sends a request and returns the decoded JSON answer. Failures are SDK errors
   * (`NotFoundError`, `ConflictError`, `UnavailableError`, ...) whose cause is a `KubeApiError`;
   * an abort through `signal` rejects with the signal's reason.
   */
  request<T>(req: KubeRequest): Promise<T>;
  /** Opens a streaming GET (a watch) and returns its body once the API server answered 200. */
  stream(req: KubeRequest): Promise<ReadableStream<Uint8Array>>;
  /** Closes the client's pooled connections. */
  close(): Promise<void>;
}

function toUrl(server: string, req: KubeRequest): string {
  const url = new URL(server.replace(/\/+$/, '') + req.path);
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The transport of `connection`: client-node only for the credentials core does not handle. */
function transportOf(connection: KubeConnection): KubeTransport {
  return connection.credentials.kind === 'client-node' ? clientNodeTransport(connection.credentials.kubeconfig) : httpsTransport(connection);
}

/** Makes a client from a kubeconfig path, the in-cluster service account, or the default discovery. */
export function createKubeClient(options: KubeClientOptions = {}): KubeClient {
  const connection = options.connection ?? loadKubeConnection(options);
  const server = connection.server;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const transport = transportOf(connection);
  let closed = false;

  /** Sends `req`; resolves with the raw answer, whatever its status. */
  async function send(req: KubeRequest, signal: AbortSignal): Promise<TransportResponse> {
    if (closed) throw new Error('the Kubernetes client is closed');
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.userAgent) headers['User-Agent'] = options.userAgent;
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    }
    return transport.send({ url: toUrl(server, req), method: req.method ?? 'GET', headers, signal, ...(body !== undefined && { body }) });
  }

  /** Runs `fn` under the caller's signal plus a timeout, mapping failures to SDK errors. */
  async function exchange<R>(req: KubeRequest, timeoutMs: number, fn: (signal: AbortSignal, headersArrived: () => void) => Promise<R>): Promise<R> {
    const what = `${req.method ?? 'GET'} ${req.path}`;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const signal = req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal;
    try {
      return await fn(signal, () => clearTimeout(timer));
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (err instanceof KubeApiError) throw toSdkError(err);
      if (isOpenDepotError(err)) throw err;
      const reason = timeout.signal.aborted ? (timeout.signal.reason as Error).message : `${what} failed: ${describe(err)}`;
      throw toSdkError(new KubeApiError(what, 0, undefined, reason, { cause: err }));
    } finally {
      clearTimeout(timer);
    }
  }

  async function failure(req: KubeRequest, status: number, headers: Record<string, string>, text: string): Promise<never> {
    const body = parseJson(text) as KubeStatus | undefined;
    const what = `${req.method ?? 'GET'} ${req.path}`;
    const message = `${what}: ${body?.message ?? (text.slice(0, 300) || `HTTP ${status}`)} (${status}${body?.reason ? ` ${body.reason}` : ''})`;
    const retryAfterMs = retryAfterMsOf(headers['retry-after'], body);
    throw new KubeApiError(what, status, body, message, retryAfterMs === undefined ? {} : { retryAfterMs });
  }

  return {
    connection,
    server,
    namespace: connection.namespace,
    request<T>(req: KubeRequest): Promise<T> {
      return exchange(req, req.timeoutMs ?? requestTimeoutMs, async (signal) => {
        const res = await send(req, signal);
        const text = await res.text();
        if (res.status < 200 || res.status > 299) return failure(req, res.status, res.headers, text);
        return parseJson(text) as T;
      });
    },
    stream(req: KubeRequest): Promise<ReadableStream<Uint8Array>> {
      return exchange(req, req.timeoutMs ?? requestTimeoutMs, async (signal, headersArrived) => {
        // The timeout covers the wait for headers only; the caller's signal covers the whole stream.
        const res = await send(req, signal);
        if (res.status !== 200) return failure(req, res.status, res.headers, await res.text());
        headersArrived();
        return res.stream();
      });
    },
    async close(): Promise<void> {
      closed = true;
      await transport.close();
    },
  };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
