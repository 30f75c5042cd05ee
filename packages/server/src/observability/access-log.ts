/** One structured JSON log line and the metrics of every request, written when it ends. */
import type { Middleware } from 'koa';
import type { Logger } from '@opendepot/sdk';
import type { ServerMetrics } from './metrics.ts';

/** What handlers tell the access log beyond status and headers (`ctx.state`). */
export interface RequestState {
  /** Body bytes sent, for streamed answers whose length koa does not know. */
  bytesSent?: number;
  /** A short word on how a streamed answer ended, e.g. `verified` or `checksum-mismatch`. */
  outcome?: string;
}

interface MatchedRoute {
  _matchedRouteName?: string;
}

/**
 * Logs each request once it has finished or been cut off, and records its metrics. Only
 * chosen fields are logged: never headers wholesale, so `Authorization` cannot leak.
 */
export function accessLog(log: Logger, metrics: ServerMetrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    // Read now: once a failed download has destroyed the socket its address is gone.
    const remoteAddress = ctx.app.proxy ? ctx.ip : (ctx.req.socket.remoteAddress ?? '');
    ctx.res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const state = ctx.state as RequestState;
      const route = (ctx as unknown as MatchedRoute)._matchedRouteName ?? 'unmatched';
      const status = String(ctx.status);
      const bytes = ctx.method === 'HEAD' ? 0 : (state.bytesSent ?? ctx.response.length ?? 0);
      const labels = { route, method: ctx.method, status };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      if (bytes > 0) metrics.bytesServed.inc({ route }, bytes);
      const fields: Record<string, unknown> = {
        method: ctx.method,
        path: ctx.path,
        route,
        status: ctx.status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        bytes,
        remoteAddress,
      };
      if (state.outcome !== undefined) fields.outcome = state.outcome;
      if (!ctx.res.writableFinished) fields.aborted = true;
      const userAgent = ctx.get('User-Agent');
      if (userAgent) fields.userAgent = userAgent;
      const clientVersion = ctx.get('X-Terraform-Version');
      if (clientVersion) fields.clientVersion = clientVersion;
      log.info('request', fields);
    });
    await next();
  };
}
