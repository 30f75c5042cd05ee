/** Remote service discovery: `/.well-known/terraform.json`. */
import Router from '@koa/router';
import { MODULES_V1_PATH } from './modules.ts';

/** Where providers.v1 is served (it must end in "/": clients append nothing for providers). */
export const PROVIDERS_V1_PATH = '/opendepot/providers/v1/';

/** The conventional path some tools assume without reading discovery; served by the same routes. */
export const CONVENTIONAL_PROVIDERS_V1_PATH = '/v1/providers/';

/** Service id (`modules.v1`, `providers.v1`, `login.v1`, ...) to URL, or to an object for `login.v1`. */
export type ServiceDocument = Readonly<Record<string, string | Readonly<Record<string, unknown>>>>;

/** The services the server advertises by default. Relative URLs resolve against the discovery URL. */
export const DEFAULT_SERVICES: ServiceDocument = {
  'modules.v1': MODULES_V1_PATH,
  'providers.v1': PROVIDERS_V1_PATH,
};

/**
 * Serves the discovery document. Clients insist on a 200 with media type application/json and
 * cache it per process only; the max-age is for proxies in between.
 */
export function discoveryRoutes(services: ServiceDocument = DEFAULT_SERVICES): Router {
  const body = JSON.stringify(services);
  const router = new Router();
  router.get('discovery', '/.well-known/terraform.json', (ctx) => {
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
