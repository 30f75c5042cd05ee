/**
 * The browse UI (`/ui/...`, server-rendered pages) and its read-only JSON API
 * (`/opendepot/api/v1/...`), behind the same access control as the registry protocols: a caller
 * sees only the modules and providers its grants let it read, and a page it may not read answers
 * exactly like one that does not exist (404), so nothing reveals what exists.
 */
import Router from '@koa/router';
import type { Informer, Version } from '@opendepot/core';
import type { ProtectedResource } from '@opendepot/sdk';
import type { Context } from 'koa';
import { ANONYMOUS_SUBJECT, type AccessControl } from '../auth/access-control.ts';
import type { ModuleCatalog } from '../catalog/module-catalog.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import { sendError } from '../http/errors.ts';
import type { PublicBase } from '../http/public-base.ts';
import { MIRROR_V1_PATH } from '../routes/mirror.ts';
import { sendAsset } from './assets.ts';
import { matcher, type CatalogEntry, type ListQuery } from './browse-index.ts';
import type { CatalogListing } from './catalog-listing.ts';
import { moduleDetail, providerDetail } from './details.ts';
import type { DocsStore } from './docs-store.ts';
import type { ReadmeRenderer } from './markdown.ts';
import { listPage, modulePage, notFoundPage, providerPage, signInPage, UI_PATH, type ListPage, type Viewer } from './pages.ts';

/** Where the JSON API is served. */
export const UI_API_PATH = '/opendepot/api/v1';

/** Entries per page of the list (page and API). */
export const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

/** What the UI reads. */
export interface UiDeps {
  modules: ModuleCatalog;
  providers: ProviderCatalog;
  versions: Informer<Version>;
  /** What the list shows, before grants and search. */
  listing: CatalogListing;
  access: AccessControl;
  docs: DocsStore;
  baseOf: PublicBase;
  /** The key the registry signs provider checksums with, shown on provider pages. */
  signingKeyId?: string;
  /** Show README images from remote https URLs (default: shown as links). */
  remoteImages?: boolean;
  /** Browser sign-in, when an auth provider offers it: the sign-in URL for a page to come back to, and the sign-out URL. */
  browserLogin?: { loginUrl(next: string): string; logoutUrl: string };
}

/**
 * The Content-Security-Policy of the pages: this origin's stylesheet and script only, no frames,
 * forms only to this origin, images inline (and remote ones only when allowed).
 */
function pagePolicy(remoteImages: boolean): string {
  return `default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:${remoteImages ? ' https:' : ''}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
}

const moduleResource = (namespace: string, resource: string): ProtectedResource => ({ kind: 'Module', namespace, name: resource });
const providerResource = (namespace: string, resource: string): ProtectedResource => ({ kind: 'Provider', namespace, name: resource });
const resourceOf = (e: CatalogEntry): ProtectedResource => (e.kind === 'module' ? moduleResource(e.namespace, e.resource) : providerResource(e.namespace, e.resource));

function firstQuery(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length <= 256 ? first : undefined;
}

function listQuery(ctx: Context): ListQuery {
  const q = firstQuery(ctx, 'q');
  const namespace = firstQuery(ctx, 'namespace');
  const kind = firstQuery(ctx, 'kind');
  return {
    ...(q && { q }),
    ...(namespace && { namespace }),
    ...((kind === 'module' || kind === 'provider') && { kind }),
    ...(['1', 'true', 'yes'].includes(firstQuery(ctx, 'findings') ?? '') && { withFindings: true }),
  };
}

function pageNumber(ctx: Context): number {
  const page = Number(firstQuery(ctx, 'page') ?? '1');
  return Number.isSafeInteger(page) && page >= 1 ? page : 1;
}

/** Creates the UI and API router. */
export function uiRoutes(deps: UiDeps): Router {
  // Strict: `/ui` (redirected) and `/ui/` (the list) are different routes.
  const router = new Router({ strict: true });
  // markdown-it is imported when the first module page is shown, not at start.
  let readmeRendererLoaded: Promise<ReadmeRenderer> | undefined;
  const renderReadme = () => (readmeRendererLoaded ??= import('./markdown.ts').then((m) => m.readmeRenderer({ remoteImages: deps.remoteImages === true })));
  const policy = pagePolicy(deps.remoteImages === true);
  const hostOf = (ctx: Context) => new URL(deps.baseOf(ctx)).host;

  /** Who is asking (never refused here: the UI answers an unknown caller with a sign-in page). */
  const viewerOf = async (ctx: Context): Promise<Viewer> => {
    const { principal } = await deps.access.identify(ctx);
    const signedIn = principal !== undefined && principal.subject !== ANONYMOUS_SUBJECT;
    const login = deps.browserLogin;
    return {
      signedIn,
      ...(signedIn && { subject: principal.subject }),
      ...(login && !signedIn && { loginUrl: login.loginUrl(ctx.originalUrl.startsWith(UI_PATH) ? ctx.originalUrl : `${UI_PATH}/`) }),
      ...(login && signedIn && { logoutUrl: login.logoutUrl }),
    };
  };
  const known = (ctx: Context) => (ctx.state as { auth?: { principal?: unknown } }).auth?.principal !== undefined;

  const sendPage = (ctx: Context, status: number, page: { value: string }) => {
    ctx.status = status;
    ctx.set('Content-Security-Policy', policy);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page.value;
  };

  /** The visible entries matching the request, and one page of them. */
  const listed = async (ctx: Context, query: ListQuery, pageSize: number): Promise<ListPage> => {
    const visible = await deps.access.visible(ctx, deps.listing.entries(), resourceOf);
    const matching = visible.filter(matcher(query));
    const page = pageNumber(ctx);
    return {
      items: matching.slice((page - 1) * pageSize, page * pageSize),
      total: matching.length,
      page,
      pageSize,
      namespaces: [...new Set(visible.map((e) => e.namespace))].sort(),
    };
  };

  /** A module the caller may read, else undefined (absent and refused look the same). */
  const readableModule = async (ctx: Context, p: { namespace: string; name: string; provider: string }) => {
    const view = deps.modules.find(p.namespace, p.name, p.provider);
    if (view === undefined || !(await deps.access.mayRead(ctx, moduleResource(view.module.metadata.namespace ?? '', view.module.metadata.name ?? '')))) return undefined;
    return view;
  };
  const readableProvider = async (ctx: Context, p: { namespace: string; type: string }) => {
    const view = deps.providers.find(p.namespace, p.type);
    if (view === undefined || !(await deps.access.mayRead(ctx, providerResource(view.namespace, view.owner)))) return undefined;
    return view;
  };

  router.get('/', (ctx) => ctx.redirect(`${UI_PATH}/`));
  router.get(UI_PATH, (ctx) => ctx.redirect(`${UI_PATH}/`));
  router.get(`${UI_PATH}/assets/:name`, (ctx) => {
    if (!sendAsset(ctx, ctx.params.name ?? '')) sendError(ctx, 404, 'no such asset');
  });

  router.get(`${UI_PATH}/`, async (ctx) => {
    const viewer = await viewerOf(ctx);
    if (!known(ctx)) return sendPage(ctx, 401, signInPage(viewer));
    const query = listQuery(ctx);
    sendPage(ctx, 200, listPage(viewer, query, await listed(ctx, query, PAGE_SIZE)));
  });

  router.get(`${UI_PATH}/modules/:namespace/:name/:provider`, async (ctx) => {
    const viewer = await viewerOf(ctx);
    if (!known(ctx)) return sendPage(ctx, 401, signInPage(viewer));
    const view = await readableModule(ctx, ctx.params as { namespace: string; name: string; provider: string });
    if (!view) return sendPage(ctx, 404, notFoundPage(viewer));
    sendPage(ctx, 200, modulePage(viewer, await moduleDetail(view, deps.versions, deps.docs, hostOf(ctx), firstQuery(ctx, 'version')), await renderReadme()));
  });

  router.get(`${UI_PATH}/providers/:namespace/:type`, async (ctx) => {
    const viewer = await viewerOf(ctx);
    if (!known(ctx)) return sendPage(ctx, 401, signInPage(viewer));
    const view = await readableProvider(ctx, ctx.params as { namespace: string; type: string });
    if (!view) return sendPage(ctx, 404, notFoundPage(viewer));
    sendPage(ctx, 200, providerPage(viewer, providerDetail(view, deps.versions, hostOf(ctx), `${deps.baseOf(ctx)}${MIRROR_V1_PATH}`, deps.signingKeyId, firstQuery(ctx, 'version'))));
  });

  // The JSON API: the same data, for scripts and other front ends. 401 without a known caller.
  const apiCaller = async (ctx: Context): Promise<boolean> => {
    await deps.access.identify(ctx);
    if (known(ctx)) return true;
    ctx.set('WWW-Authenticate', 'Bearer');
    sendError(ctx, 401, 'authentication required: send a registry token (tofu login, or TF_TOKEN_<host>), or sign in');
    return false;
  };

  router.get(`${UI_API_PATH}/catalog`, async (ctx) => {
    if (!(await apiCaller(ctx))) return;
    const size = Number(firstQuery(ctx, 'pageSize') ?? PAGE_SIZE);
    const pageSize = Number.isSafeInteger(size) && size >= 1 ? Math.min(size, MAX_PAGE_SIZE) : PAGE_SIZE;
    const page = await listed(ctx, listQuery(ctx), pageSize);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { items: page.items, total: page.total, page: page.page, pageSize: page.pageSize, namespaces: page.namespaces };
  });

  router.get(`${UI_API_PATH}/modules/:namespace/:name/:provider`, async (ctx) => {
    if (!(await apiCaller(ctx))) return;
    const view = await readableModule(ctx, ctx.params as { namespace: string; name: string; provider: string });
    if (!view) return sendError(ctx, 404, 'no such module');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await moduleDetail(view, deps.versions, deps.docs, hostOf(ctx), firstQuery(ctx, 'version'));
  });

  router.get(`${UI_API_PATH}/providers/:namespace/:type`, async (ctx) => {
    if (!(await apiCaller(ctx))) return;
    const view = await readableProvider(ctx, ctx.params as { namespace: string; type: string });
    if (!view) return sendError(ctx, 404, 'no such provider');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = providerDetail(view, deps.versions, hostOf(ctx), `${deps.baseOf(ctx)}${MIRROR_V1_PATH}`, deps.signingKeyId, firstQuery(ctx, 'version'));
  });

  return router;
}
