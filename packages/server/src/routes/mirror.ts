/**
 * The provider network mirror protocol (protocol.md §4): mirrored providers under their original
 * addresses (`registry.opentofu.org/hashicorp/aws`), so a team adds a `network_mirror` block and
 * changes no source address. Every archive lists both its `h1:` and `zh:` hashes, so a lock file
 * written through the mirror verifies on every platform.
 *
 * URL scheme under {@link MIRROR_V1_PATH}:
 * - `:hostname/:namespace/:type/index.json` → `{"versions":{"5.80.0":{}}}`
 * - `:hostname/:namespace/:type/:version.json` → `{"archives":{"linux_amd64":{"url","hashes"}}}`
 * The archive URLs point at the providers.v1 package route, relative to the JSON's URL.
 */
import { posix } from 'node:path';
import Router from '@koa/router';
import { tryParseVersion } from '@opendepot/core';
import { NotFoundError } from '@opendepot/sdk';
import type { Context } from 'koa';
import type { MirrorArchive, MirrorView } from '../catalog/mirror-view.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import { PROVIDERS_V1_PATH } from './discovery.ts';

/** Where the network mirror is served; the `network_mirror` block's `url`. */
export const MIRROR_V1_PATH = '/opendepot/mirror/v1/';

/** What the mirror routes read. */
export interface MirrorRoutesDeps {
  catalog: ProviderCatalog;
}

interface MirrorParams {
  hostname: string;
  namespace: string;
  type: string;
}

interface Bodies {
  index: string;
  versions: Map<string, string>;
}

// The JSON documents sit three segments below MIRROR_V1_PATH, whatever the names in them.
const JSON_DIR = `${MIRROR_V1_PATH}host/namespace/type`;

/** The package URL of `archive`, relative to the mirror's version document. */
export function mirrorArchiveUrl(archive: MirrorArchive): string {
  const segments = [archive.namespace, archive.type, archive.version, archive.platform.filename].map(encodeURIComponent);
  return posix.relative(JSON_DIR, `${PROVIDERS_V1_PATH}${segments.join('/')}`);
}

/** The network mirror router, mounted at {@link MIRROR_V1_PATH}. */
export function mirrorRoutes(deps: MirrorRoutesDeps): Router {
  const router = new Router({ prefix: MIRROR_V1_PATH.slice(0, -1) });
  // Serialised once per view: views are replaced, never changed, when Versions change.
  const bodies = new WeakMap<MirrorView, Bodies>();
  const bodiesOf = (view: MirrorView): Bodies => {
    let cached = bodies.get(view);
    if (cached === undefined) bodies.set(view, (cached = serialise(view)));
    return cached;
  };

  router.get('mirror.index', '/:hostname/:namespace/:type/index.json', (ctx) => {
    const view = findMirrored(deps.catalog, ctx.params as unknown as MirrorParams);
    sendJson(ctx, bodiesOf(view).index);
  });

  router.get('mirror.version', '/:hostname/:namespace/:type/:version.json', (ctx) => {
    const params = ctx.params as unknown as MirrorParams & { version: string };
    const view = findMirrored(deps.catalog, params);
    const parsed = tryParseVersion(params.version);
    const body = typeof parsed === 'string' ? undefined : bodiesOf(view).versions.get(parsed.canonical);
    if (body === undefined) throw new NotFoundError(`the mirror has no version ${params.version} of ${addressOf(params)}; available: ${[...view.releases.keys()].join(', ')}`);
    sendJson(ctx, body);
  });

  return router;
}

function serialise(view: MirrorView): Bodies {
  const versions = new Map<string, string>();
  for (const [version, archives] of view.releases) {
    const entries = [...archives].sort(([a], [b]) => (a < b ? -1 : 1));
    const body = Object.fromEntries(entries.map(([key, archive]) => [key, { url: mirrorArchiveUrl(archive), hashes: hashesOf(archive) }]));
    versions.set(version, JSON.stringify({ archives: body }));
  }
  return { index: JSON.stringify({ versions: Object.fromEntries([...view.releases.keys()].map((v) => [v, {}])) }), versions };
}

/** `h1:` (when recorded) and `zh:` (the recorded checksum is the zip's SHA-256) of one package. */
function hashesOf(archive: MirrorArchive): string[] {
  const { platform } = archive;
  return [...(platform.h1 === undefined ? [] : [platform.h1]), `zh:${platform.state.checksum}`];
}

function findMirrored(catalog: ProviderCatalog, params: MirrorParams): MirrorView {
  const view = catalog.findMirrored(params.hostname, params.namespace, params.type);
  if (view === undefined) throw new NotFoundError(`the mirror holds no provider ${addressOf(params)}: no Provider mirrors it, or none of its versions is available yet`);
  return view;
}

function addressOf(params: MirrorParams): string {
  return `${params.hostname}/${params.namespace}/${params.type}`;
}

// Both clients insist on media type application/json for 200s.
function sendJson(ctx: Context, body: string): void {
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.body = body;
}
