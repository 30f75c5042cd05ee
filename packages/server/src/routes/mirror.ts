/**
 * The provider network mirror protocol (protocol.md §4): mirrored providers under their original
 * addresses (`registry.opentofu.org/hashicorp/aws`), so a team adds a `network_mirror` block and
 * changes no source address. Every archive lists both its `h1:` and `zh:` hashes, so a lock file
 * written through the mirror verifies on every platform.
 *
 * URL scheme under {@link MIRROR_V1_PATH}:
 * - `:hostname/:namespace/:type/index.json` → `{"versions":{"5.80.0":{}}}`
 * - `:hostname/:namespace/:type/:version.json` → `{"archives":{"linux_amd64":{"url","hashes"}}}`
 * The archive URLs are absolute, on the registry's public base, at the providers.v1 package route.
 */
import Router from '@koa/router';
import { tryParseVersion } from '@opendepot/core';
import { ForbiddenError, NotFoundError, type ProtectedResource } from '@opendepot/sdk';
import type { Context } from 'koa';
import type { AccessControl } from '../auth/access-control.ts';
import { artifactId } from '../auth/download-urls.ts';
import type { MirrorArchive, MirrorView } from '../catalog/mirror-view.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import { lockHashes } from '../catalog/provider-view.ts';
import { EncodedAnswer, sendEncoded } from '../http/encoded-answer.ts';
import type { PublicBase } from '../http/public-base.ts';
import { PROVIDERS_V1_PATH } from './discovery.ts';

/** Where the network mirror is served; the `network_mirror` block's `url`. */
export const MIRROR_V1_PATH = '/opendepot/mirror/v1/';

/** What the mirror routes read. */
export interface MirrorRoutesDeps {
  catalog: ProviderCatalog;
  access: AccessControl;
  /** The base of the absolute URLs answers hand out. */
  baseOf: PublicBase;
}

interface MirrorParams {
  hostname: string;
  namespace: string;
  type: string;
}

interface Bodies {
  index: EncodedAnswer;
  versions: Map<string, EncodedAnswer>;
}

/** Version documents of one view kept per base: a few bases at most (one per name the registry is reached by). */
const BASES_PER_VIEW = 4;

/** The package URL of `archive` on `base`. */
export function mirrorArchiveUrl(base: string, archive: MirrorArchive): string {
  const segments = [archive.namespace, archive.type, archive.version, archive.platform.filename].map(encodeURIComponent);
  return `${base}${PROVIDERS_V1_PATH}${segments.join('/')}`;
}

/** The network mirror router, mounted at {@link MIRROR_V1_PATH}. */
export function mirrorRoutes(deps: MirrorRoutesDeps): Router {
  const router = new Router({ prefix: MIRROR_V1_PATH.slice(0, -1) });
  // Encoded once per view and base: views are replaced, never changed, when Versions change;
  // bases come from requests (without externalUrl), so each view keeps only the latest few.
  const bodies = new WeakMap<MirrorView, Map<string, Bodies>>();
  const bodiesOf = (view: MirrorView, base: string): Bodies => {
    let perBase = bodies.get(view);
    if (perBase === undefined) bodies.set(view, (perBase = new Map()));
    let cached = perBase.get(base);
    if (cached === undefined) {
      if (perBase.size >= BASES_PER_VIEW) perBase.delete(perBase.keys().next().value!);
      perBase.set(base, (cached = serialise(view, base)));
    }
    return cached;
  };

  const { access, baseOf } = deps;

  // The mirror merges Providers of several namespaces: a caller sees the packages of the
  // Providers it is granted, and is refused (403) when that leaves nothing.
  router.get('mirror.index', '/:hostname/:namespace/:type/index.json', async (ctx) => {
    const view = findMirrored(deps.catalog, ctx.params as unknown as MirrorParams);
    const archives = [...view.releases.values()].flatMap((a) => [...a.values()]);
    const { granted, refused } = await access.filterGranted(ctx, archives, resourceOf);
    if (refused.length === 0) return sendEncoded(ctx, bodiesOf(view, baseOf(ctx)).index);
    if (granted.length === 0) throw forbidden(refused);
    const versions = new Set(granted.map((a) => a.version));
    sendJson(ctx, JSON.stringify({ versions: Object.fromEntries([...view.releases.keys()].filter((v) => versions.has(v)).map((v) => [v, {}])) }));
  });

  router.get('mirror.version', '/:hostname/:namespace/:type/:version.json', async (ctx) => {
    const params = ctx.params as unknown as MirrorParams & { version: string };
    const view = findMirrored(deps.catalog, params);
    const parsed = tryParseVersion(params.version);
    const canonical = typeof parsed === 'string' ? '' : parsed.canonical;
    const archives = view.releases.get(canonical);
    if (archives === undefined) throw new NotFoundError(`the mirror has no version ${params.version} of ${addressOf(params)}; available: ${[...view.releases.keys()].join(', ')}`);
    const { granted, refused } = await access.filterGranted(ctx, [...archives.values()], resourceOf);
    if (granted.length === 0) throw forbidden(refused);
    const base = baseOf(ctx);
    // Unsigned and everything granted: the body serialised once per view and base.
    if (refused.length === 0 && access.downloadUrls === undefined) return sendEncoded(ctx, bodiesOf(view, base).versions.get(canonical)!);
    sendJson(
      ctx,
      versionBody(granted, (archive) => access.signUrl(mirrorArchiveUrl(base, archive), mirrorArchiveId(archive))),
    );
  });

  return router;
}

function serialise(view: MirrorView, base: string): Bodies {
  const versions = new Map<string, EncodedAnswer>();
  for (const [version, archives] of view.releases) versions.set(version, new EncodedAnswer(versionBody([...archives.values()], (archive) => mirrorArchiveUrl(base, archive))));
  return { index: new EncodedAnswer(JSON.stringify({ versions: Object.fromEntries([...view.releases.keys()].map((v) => [v, {}])) })), versions };
}

/** The `{"archives": ...}` document of one version's packages, keyed by platform. */
function versionBody(archives: readonly MirrorArchive[], urlOf: (archive: MirrorArchive) => string): string {
  const entries = [...archives].sort((a, b) => (a.platform.key < b.platform.key ? -1 : 1));
  return JSON.stringify({ archives: Object.fromEntries(entries.map((archive) => [archive.platform.key, { url: urlOf(archive), hashes: lockHashes(archive.platform) }])) });
}

/** The Provider resource whose grant covers a mirrored package. */
function resourceOf(archive: MirrorArchive): ProtectedResource {
  return { kind: 'Provider', namespace: archive.namespace, name: archive.owner };
}

/** What a mirrored package's download signature is bound to: the providers.v1 package it points at. */
function mirrorArchiveId(archive: MirrorArchive): string {
  return artifactId('provider', [archive.namespace, archive.type, archive.version, archive.platform.filename]);
}

function forbidden(refused: readonly ProtectedResource[]): ForbiddenError {
  const names = refused.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ');
  return new ForbiddenError(`access to ${names} is not granted: a grant for ${refused.length === 1 ? 'it' : 'them'} is missing`);
}

function findMirrored(catalog: ProviderCatalog, params: MirrorParams): MirrorView {
  const view = catalog.findMirrored(params.hostname, params.namespace, params.type);
  if (view === undefined) throw new NotFoundError(`the mirror holds no provider ${addressOf(params)}: no Provider mirrors it, or none of its versions is available yet`);
  return view;
}

function addressOf(params: MirrorParams): string {
  return `${params.hostname}/${params.namespace}/${params.type}`;
}

// Answers filtered or signed per caller: never cached. Both clients insist on application/json.
function sendJson(ctx: Context, body: string): void {
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.body = body;
}
