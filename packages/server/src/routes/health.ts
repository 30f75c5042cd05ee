/** Liveness and readiness endpoints (registry port) and metrics (its own port). */
import Router from '@koa/router';
import type { Registry } from 'prom-client';

/** Something that becomes ready once, such as an informer's first list. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

/**
 * `/healthz`: the process answers. `/readyz`: every check passes (the server answers from its
 * informer caches, so it is not ready before each has loaded its first list).
 */
export function healthRoutes(checks: readonly ReadinessCheck[]): Router {
  const router = new Router();
  router.get('healthz', '/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('readyz', '/readyz', (ctx) => {
    const waiting = checks.filter((c) => !c.ready()).map((c) => c.name);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = waiting.length === 0 ? 200 : 503;
    ctx.body = waiting.length === 0 ? { status: 'ready' } : { status: 'not ready', waitingFor: waiting };
  });
  return router;
}

/**
 * `/metrics`: Prometheus text. Mounted on the metrics port only: process figures and per-route
 * counters are for the platform's Prometheus, not for every client of the registry.
 */
export function metricsRoutes(registry: Registry): Router {
  const router = new Router();
  router.get('metrics', '/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}
