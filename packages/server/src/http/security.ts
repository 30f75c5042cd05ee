/** Read-only method policy and the security headers every answer carries. */
import type { Middleware } from 'koa';
import { sendError } from './errors.ts';

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  // The server answers JSON and archives only: nothing may be rendered, framed or scripted.
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-site',
};

/** Sets {@link SECURITY_HEADERS} on every answer. */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    await next();
  };
}

/**
 * The registry is read-only: only GET and HEAD exist, on every path. Anything else is a 405
 * with `Allow`, before routing, so no handler can ever see a mutating method.
 */
export function readOnly(): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();
    ctx.set('Allow', 'GET, HEAD');
    sendError(ctx, 405, `method ${ctx.method} is not allowed: the registry is read-only (GET and HEAD only)`);
  };
}
