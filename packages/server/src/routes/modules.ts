/**
 * The module registry protocol (`modules.v1`), as tofu and terraform read it: list versions,
 * the download location, and the archive route the location points at.
 */
import Router from '@koa/router';
import { tryParseVersion } from '@opendepot/core';
import { NotFoundError, type Logger, type ProtectedResource } from '@opendepot/sdk';
import type { Context } from 'koa';
import { serveArchive, type ArchiveServerDeps } from '../archive/serve-archive.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { artifactId } from '../auth/download-urls.ts';
import type { ModuleCatalog, ModuleView } from '../catalog/module-catalog.ts';
import type { ModuleVersionEntry, ServableArchive } from '../catalog/types.ts';
import { notServableError } from '../http/not-servable.ts';
import { sendEncoded } from '../http/encoded-answer.ts';
import type { PublicBase } from '../http/public-base.ts';

/** Where modules.v1 is served; discovery advertises it. */
export const MODULES_V1_PATH = '/opendepot/modules/v1/';

/** The conventional path some tools assume without reading discovery; served by the same routes. */
export const CONVENTIONAL_MODULES_V1_PATH = '/v1/modules/';

/** The archive file name per stored format: the suffix is what makes go-getter unpack it. */
export const ARCHIVE_FILES = { zip: 'archive.zip', 'tar.gz': 'archive.tar.gz' } as const;

const LISTED_VERSIONS_IN_ERRORS = 20;

/** What the module routes read. */
export interface ModuleRoutesDeps extends ArchiveServerDeps {
  catalog: ModuleCatalog;
  access: AccessControl;
  /** The base of the absolute URLs answers hand out. */
  baseOf: PublicBase;
}

interface AddressParams {
  namespace: string;
  name: string;
  system: string;
}

/** The modules.v1 router, mounted at `prefix` ({@link MODULES_V1_PATH} by default). */
export function moduleRoutes(deps: ModuleRoutesDeps, prefix = MODULES_V1_PATH): Router {
  const router = new Router({ prefix: prefix.slice(0, -1) });

  router.get('modules.versions', '/:namespace/:name/:system/versions', async (ctx) => {
    const view = findModule(deps.catalog, ctx.params as unknown as AddressParams);
    await deps.access.require(ctx, resourceOf(view));
    sendEncoded(ctx, view.versionsAnswer);
  });

  router.get('modules.download', '/:namespace/:name/:system/:version/download', async (ctx) => {
    const params = ctx.params as unknown as AddressParams & { version: string };
    const view = findModule(deps.catalog, params);
    await deps.access.require(ctx, resourceOf(view));
    const { entry, archive } = servableVersion(view, params.version, deps.log);
    // Absolute (tools other than the CLIs take it as a URL), on the registry's public base.
    // ?checksum= makes go-getter verify the archive too. Clients fetch it without the registry
    // token: when access is controlled it is signed.
    const target = downloadTarget(view, entry, archive);
    const location = deps.access.signUrl(`${deps.baseOf(ctx)}${target.path}`, target.artifact);
    ctx.set('X-Terraform-Get', location);
    ctx.set('Cache-Control', 'private, no-cache');
    // 204 + header works with every tofu and terraform version. A client that asks for JSON
    // gets 200 {"location"} and the same header: OpenTofu reads the body, Terraform the header.
    if (acceptsJsonExplicitly(ctx)) {
      ctx.status = 200;
      ctx.body = { location };
    } else {
      ctx.status = 204;
    }
  });

  router.get('modules.archive', '/:namespace/:name/:system/:version/:file', async (ctx) => {
    const params = ctx.params as unknown as AddressParams & { version: string; file: string };
    const parsed = tryParseVersion(params.version);
    const version = typeof parsed === 'string' ? params.version : parsed.canonical;
    await deps.access.requireDownload(ctx, artifactId('module', [params.namespace, params.name, params.system, version, params.file]), () => resourceOf(findModule(deps.catalog, params)));
    const view = findModule(deps.catalog, params);
    const { entry, archive } = servableVersion(view, params.version, deps.log);
    const expected = ARCHIVE_FILES[archive.fileFormat];
    if (params.file !== expected) {
      throw new NotFoundError(`module ${view.address} version ${entry.version} is stored as ${archive.fileFormat}: its archive is ${expected}`);
    }
    const config = view.module.spec.moduleConfig;
    await serveArchive(ctx, deps, {
      archive,
      label: `${view.address} ${entry.version}`,
      filename: `${config.name}-${config.provider}-${entry.version}.${archive.fileFormat}`,
      resource: entry.resource,
    });
  });

  return router;
}

/** The Module resource a request reads. */
function resourceOf(view: ModuleView): ProtectedResource {
  return { kind: 'Module', namespace: view.module.metadata.namespace ?? '', name: view.module.metadata.name ?? '' };
}

/** Where a version's archive is downloaded from (below the public base), and what its signature is bound to. */
interface DownloadTarget {
  path: string;
  artifact: string;
}

// Built once per entry: entries are replaced, never changed, when the module's Versions change.
const downloadTargets = new WeakMap<ModuleVersionEntry, DownloadTarget>();

function downloadTarget(view: ModuleView, entry: ModuleVersionEntry, archive: ServableArchive): DownloadTarget {
  let target = downloadTargets.get(entry);
  if (target === undefined) {
    const config = view.module.spec.moduleConfig;
    const file = ARCHIVE_FILES[archive.fileFormat];
    const segments = [view.module.metadata.namespace ?? '', config.name, config.provider, entry.version, file];
    target = { path: `${MODULES_V1_PATH}${segments.map(encodeURIComponent).join('/')}?checksum=sha256:${archive.checksum}`, artifact: artifactId('module', segments) };
    downloadTargets.set(entry, target);
  }
  return target;
}

// `Accept: */*` (Go's default is none at all) keeps the 204 form every client understands.
function acceptsJsonExplicitly(ctx: Context): boolean {
  return /\bapplication\/json\b/i.test(ctx.get('Accept'));
}

function findModule(catalog: ModuleCatalog, params: AddressParams): ModuleView {
  const view = catalog.find(params.namespace, params.name, params.system);
  if (view === undefined) {
    const address = `${params.namespace}/${params.name}/${params.system}`;
    throw new NotFoundError(`module ${address} not found: no Module in namespace ${params.namespace} has moduleConfig name ${params.name} and provider ${params.system}`);
  }
  return view;
}

function servableVersion(view: ModuleView, requested: string, log: Logger): { entry: ModuleVersionEntry; archive: ServableArchive } {
  // Clients ask for the canonical form the versions answer lists: found without parsing.
  let entry = view.versions.get(requested);
  if (entry === undefined) {
    const parsed = tryParseVersion(requested);
    entry = typeof parsed === 'string' ? undefined : view.versions.get(parsed.canonical);
  }
  if (entry === undefined) {
    throw new NotFoundError(`module ${view.address} has no version ${requested}; ${describeAvailable(view)}`);
  }
  if (entry.state.kind !== 'ready') throw notServableError(`module ${view.address} version ${entry.version}`, entry.resource, entry.state, log);
  return { entry, archive: entry.state };
}

function describeAvailable(view: ModuleView): string {
  if (view.ready.length === 0) return 'it has no available versions yet';
  const newest = view.ready.slice(-LISTED_VERSIONS_IN_ERRORS).map((e) => e.version);
  const more = view.ready.length - newest.length;
  return `available versions: ${newest.join(', ')}${more > 0 ? ` (and ${more} older)` : ''}`;
}
