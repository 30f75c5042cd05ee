/**
 * The one way OpenDepot talks to the API server: a kubeconfig (file, in-cluster or default
 * discovery) from @kubernetes/client-node for endpoints, credentials and TLS, and a small request
 * function on top of its transport. Every kind (custom or built-in) goes through the same path,
 * any patch content type works (merge patch, server-side apply), and requests take an AbortSignal.
 */
import { readFileSync } from 'node:fs';
import { IsomorphicFetchHttpLibrary, KubeConfig, RequestContext, type HttpMethod } from '@kubernetes/client-node';
import { isOpenDepotError } from '@opendepot/sdk';
import { KubeApiError, retryAfterMsOf, toSdkError, type KubeStatus } from './errors.ts';

/** How to reach the API server. With no option, the usual discovery: `$KUBECONFIG`, `~/.kube/config`, then in-cluster. */
export interface KubeClientOptions {
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  inCluster?: boolean;
  /** An already loaded configuration. */
  kubeConfig?: KubeConfig;
  /** A context of the kubeconfig other than its current one. */
  context?: string;
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
  /** The loaded kubeconfig, for code that needs one of client-node's typed APIs (`makeApiClient`). */
  readonly kubeConfig: KubeConfig;
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

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Loads the kubeconfig the options name. */
export function loadKubeConfig(options: KubeClientOptions = {}): KubeConfig {
  if (options.kubeConfig) return options.kubeConfig;
  const kc = new KubeConfig();
  if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else if (options.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  return kc;
}

function defaultNamespace(kc: KubeConfig): string {
  const fromContext = kc.getContextObject(kc.getCurrentContext())?.namespace;
  if (fromContext) return fromContext;
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
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

/** Makes a client from a kubeconfig path, the in-cluster service account, or the default discovery. */
export function createKubeClient(options: KubeClientOptions = {}): KubeClient {
  const kc = loadKubeConfig(options);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const http = new IsomorphicFetchHttpLibrary();
  // client-node builds a new connection pool for every request; keep the first one so requests
  // reuse kept-alive connections. Credentials (headers) are still applied per request, so a
  // rotated service-account token is picked up.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  let closed = false;

  /** Sends `req`; resolves with the raw answer, whatever its status. */
  async function send(req: KubeRequest, signal: AbortSignal) {
    if (closed) throw new Error('the Kubernetes client is closed');
    const method = req.method ?? 'GET';
    const ctx = new RequestContext(toUrl(server, req), method as HttpMethod);
    await kc.applySecurityAuthentication(ctx);
    if (dispatcher === undefined) dispatcher = ctx.getDispatcher();
    else ctx.setDispatcher(dispatcher);
    ctx.setHeaderParam('Accept', 'application/json');
    if (options.userAgent) ctx.setHeaderParam('User-Agent', options.userAgent);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    return http.send(ctx).toPromise();
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
    kubeConfig: kc,
    server,
    namespace: defaultNamespace(kc),
    request<T>(req: KubeRequest): Promise<T> {
      return exchange(req, req.timeoutMs ?? requestTimeoutMs, async (signal) => {
        const res = await send(req, signal);
        const text = await res.body.text();
        if (res.httpStatusCode < 200 || res.httpStatusCode > 299) return failure(req, res.httpStatusCode, res.headers, text);
        return parseJson(text) as T;
      });
    },
    stream(req: KubeRequest): Promise<ReadableStream<Uint8Array>> {
      return exchange(req, req.timeoutMs ?? requestTimeoutMs, async (signal, headersArrived) => {
        // The timeout covers the wait for headers only; the caller's signal covers the whole stream.
        const res = await send(req, signal);
        if (res.httpStatusCode !== 200) return failure(req, res.httpStatusCode, res.headers, await res.body.text());
        headersArrived();
        const body = res.body.stream();
        if (!body) throw new Error(`${req.path}: the answer has no body`);
        return body;
      });
    },
    async close(): Promise<void> {
      closed = true;
      await dispatcher?.destroy();
    },
  };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
