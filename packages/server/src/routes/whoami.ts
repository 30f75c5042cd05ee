/**
 * `GET /opendepot/api/v1/whoami`: who the caller is, for the web UI (signed in or not, and where
 * to sign in). Answers signed-out callers too (200, `signedIn: false`), never a 401.
 */
import Router from '@koa/router';
import { ANONYMOUS_SUBJECT, type AccessControl } from '../auth/access-control.ts';
import { LOGIN_PATH } from './browser-login.ts';

export const WHOAMI_PATH = '/opendepot/api/v1/whoami';

/** The answer of {@link WHOAMI_PATH}. */
export interface WhoAmI {
  /** True for an authenticated caller other than anonymous access. */
  signedIn: boolean;
  /** `system:anonymous` under anonymous access; null when nobody is authenticated. */
  subject: string | null;
  groups: string[];
  /** The configured name of the provider that authenticated the caller. */
  provider: string | null;
  /** How: a browser session cookie, a credential of the request (a bearer token), or anonymous access. */
  via: 'session' | 'credential' | 'anonymous' | null;
  /** Where a browser signs in (add `?next=/ui/...`); null when no provider offers a browser sign-in. */
  loginUrl: string | null;
}

export function whoamiRoutes(access: AccessControl): Router {
  const router = new Router();
  router.get(WHOAMI_PATH, async (ctx) => {
    const { principal, by, session } = await access.identify(ctx);
    const body: WhoAmI = {
      signedIn: principal !== undefined && principal.subject !== ANONYMOUS_SUBJECT,
      subject: principal?.subject ?? null,
      groups: principal?.groups ?? [],
      provider: by?.name ?? null,
      via: principal === undefined ? null : session === true ? 'session' : principal.subject === ANONYMOUS_SUBJECT ? 'anonymous' : 'credential',
      loginUrl: access.sessions !== undefined && access.browserLogin() !== undefined ? LOGIN_PATH : null,
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
  return router;
}
