/**
 * Client-facing errors. Handlers throw the SDK's errors (`NotFoundError`, `UnavailableError`,
 * `ConflictError`, ...) and core's `toHttpError` turns them into the registry convention
 * `{"errors": ["..."]}`. tofu and terraform key off the status code (and show the raw body only
 * for non-404 4xx answers of the module download endpoint); people and other tools read the text.
 * The clients do print the status line, so the message also goes into its reason phrase: a
 * refused module then reads `error looking up module versions: 403 Forbidden: access to Module
 * team-a/terraform-gcp-net is not granted: …` in `tofu init`, not just `403 Forbidden`.
 */
import { toHttpError } from '@opendepot/core';
import { isOpenDepotError, type Logger } from '@opendepot/sdk';
import type { Context, Middleware } from 'koa';

/** Writes a `{"errors": [...]}` answer. */
export function sendError(ctx: Context, status: number, message: string, headers: Record<string, string> = {}): void {
  ctx.status = status;
  // HTTP/2 has no reason phrase.
  if (ctx.req.httpVersionMajor < 2) ctx.message = `${ctx.message}: ${reasonText(message)}`;
  ctx.set({ 'Cache-Control': 'no-store', ...headers });
  ctx.body = { errors: [message] };
}

const MAX_REASON_CHARS = 200;

/** `message` as a reason phrase can carry it: printable ASCII (Node refuses control characters), shortened. */
function reasonText(message: string): string {
  const text = message.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 3)}...`;
}

/**
 * Answers thrown OpenDepot errors with their status and message, unexpected errors with a 500
 * that reveals nothing internal (they are logged), and unmatched routes with a JSON 404.
 */
export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) sendError(ctx, 404, `no such endpoint: ${ctx.path}`);
    } catch (err) {
      if (!isOpenDepotError(err)) log.error('request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err), method: ctx.method, path: ctx.path });
      if (ctx.headerSent) {
        // Nothing can be said any more; make sure the client cannot take it for a success.
        ctx.res.destroy();
        return;
      }
      const answer = toHttpError(err);
      sendError(ctx, answer.status, answer.body.errors.join('; '), answer.headers);
    }
  };
}
