/**
 * Until every informer holds its first list, the registry does not know what it serves: a
 * "not found" then would be a lie that clients cache and act on (tofu reports "no available
 * version"). Protocol requests get 503 with `Retry-After` instead; health and discovery are
 * mounted before this gate and keep answering.
 */
import type { Middleware } from 'koa';
import { sendError } from './errors.ts';

/** One thing the server waits for before it answers registry requests. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

/** How long clients are told to wait, in seconds. */
export const STARTING_RETRY_AFTER_SECONDS = 5;

/** 503 (`Retry-After`) for every request while any check is not ready. */
export function untilSynced(checks: readonly ReadinessCheck[]): Middleware {
  let allReady = false; // once synced, informers stay synced: skip the checks from then on
  return async (ctx, next) => {
    if (!allReady) allReady = checks.every((c) => c.ready());
    if (!allReady) {
      sendError(ctx, 503, 'the registry is starting and has not loaded its catalog yet; retry shortly', { 'Retry-After': String(STARTING_RETRY_AFTER_SECONDS) });
      return;
    }
    await next();
  };
}
