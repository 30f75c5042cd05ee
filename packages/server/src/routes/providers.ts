/**
 * The provider registry protocol (`providers.v1`), as tofu and terraform read it: versions,
 * download metadata per platform, the signed `SHA256SUMS`, and the packages themselves.
 *
 * URL scheme under {@link PROVIDERS_V1_PATH} (address `HOST/<kubernetes namespace>/<type>`):
 * - `:namespace/:type/versions`
 * - `:namespace/:type/:version/download/:os/:arch` (JSON; its URLs are absolute; with
 *   OpenTofu's `packages`: the `h1:`/`zh:` hashes and size of every servable platform)
 * - `:namespace/:type/:version/SHA256SUMS` and `SHA256SUMS.sig`
 * - `:namespace/:type/:version/<filename>.zip` (the package, whole and verified; Range is ignored)
 * - `signing-key.asc` (the public key, for people and `gpg --import`)
 */
import Router from '@koa/router';
import { tryParseVersion } from '@opendepot/core';
import { NotFoundError, type Logger, type ProtectedResource } from '@opendepot/sdk';
import type { Context } from 'koa';
import { serveArchive, type ArchiveServerDeps } from '../archive/serve-archive.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { artifactId } from '../auth/download-urls.ts';
import type { ProviderCatalog } from '../catalog/provider-catalog.ts';
import type { ProviderPlatform, ProviderRelease, ProviderView, ReadyPlatform } from '../catalog/provider-view.ts';
import { sendEncoded } from '../http/encoded-answer.ts';
import { sendError } from '../http/errors.ts';
import { notServableError } from '../http/not-servable.ts';
import type { PublicBase } from '../http/public-base.ts';
import { shasumsDigest, type ShasumsSigner, type SignedShasums } from '../signing/shasums-signer.ts';
import { PROVIDERS_V1_PATH } from './discovery.ts';

/** Where the public signing key is served, below {@link PROVIDERS_V1_PATH}. */
export const SIGNING_KEY_FILE = 'signing-key.asc';

/** The message of the 500 every signed answer gets while no key is configured. */
export const NO_SIGNING_KEY_MESSAGE =
  'no signing key configured: set server.gpg.privateKeyFile (the chart mounts the Secret named by server.gpg.secretName at /etc/opendepot/gpg); the registry never serves an unsigned provider package list';

const LISTED_IN_ERRORS = 20;

/** What the provider routes read. */
export interface ProviderRoutesDeps extends ArchiveServerDeps {
  catalog: ProviderCatalog;
  /** Signs `SHA256SUMS`; undefined when no key is configured (then signed answers are 500s). */
  signer: ShasumsSigner | undefined;
  /** The base of the absolute URLs answers hand out. */
  baseOf: PublicBase;
  access: AccessControl;
}

interface AddressParams {
  namespace: string;
  type: string;
  version: string;
}

/** The public signing key, below {@link PROVIDERS_V1_PATH}: public, so served without a credential. */
export function signingKeyRoutes(signer: ShasumsSigner | undefined, prefix = PROVIDERS_V1_PATH): Router {
  const router = new Router({ prefix: prefix.slice(0, -1) });
  router.get('providers.signingKey', `/${SIGNING_KEY_FILE}`, (ctx) => {
    if (signer === undefined) throw new NotFoundError(NO_SIGNING_KEY_MESSAGE);
    ctx.type = 'application/pgp-keys';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = signer.key.armoredPublicKey;
  });
  return router;
}

/** The providers.v1 router (all but the signing key), mounted at `prefix` ({@link PROVIDERS_V1_PATH} by default). */
export function providerRoutes(deps: ProviderRoutesDeps, prefix = PROVIDERS_V1_PATH): Router {
  const router = new Router({ prefix: prefix.slice(0, -1) });
  const { catalog, signer, log, access, baseOf } = deps;
  const requireSigner = signerGuard(signer, log);

  router.get('providers.versions', '/:namespace/:type/versions', async (ctx) => {
    const view = findProvider(catalog, ctx.params as unknown as AddressParams);
    await access.require(ctx, resourceOf(view));
    sendEncoded(ctx, view.versionsAnswer);
  });

  router.get('providers.download', '/:namespace/:type/:version/download/:os/:arch', async (ctx) => {
    const params = ctx.params as unknown as AddressParams & { os: string; arch: string };
    const view = findProvider(catalog, params);
    await access.require(ctx, resourceOf(view));
    const release = findRelease(view, params.version);
    const platform = servable(view, release, findPlatform(view, release, `${params.os}_${params.arch}`.toLowerCase()), log);
    const active = requireSigner(ctx);
    if (active === undefined) return;
    const sums = active.document(release.shasums, scopeOf(view, release));
    // Absolute (tools other than the CLIs take them as URLs), on the registry's public base.
    // ?digest= pins the SHA256SUMS this answer describes. Clients fetch them without the
    // registry token: when access is controlled they are signed.
    const query = `?digest=${sums.digest}`;
    const id = (file: string) => packageId(view.namespace, view.type, release.version, file);
    const base = `${baseOf(ctx)}${PROVIDERS_V1_PATH}`;
    const dir = `${base}${[view.namespace, view.type, release.version].map(encodeURIComponent).join('/')}/`;
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.body = {
      protocols: platform.protocols.length > 0 ? platform.protocols : release.protocols,
      os: platform.os,
      arch: platform.arch,
      filename: platform.filename,
      download_url: access.signUrl(`${dir}${encodeURIComponent(platform.filename)}`, id(platform.filename)),
      shasums_url: access.signUrl(`${dir}SHA256SUMS${query}`, id('SHA256SUMS')),
      shasums_signature_url: access.signUrl(`${dir}SHA256SUMS.sig${query}`, id('SHA256SUMS.sig')),
      shasum: platform.state.checksum,
      signing_keys: {
        gpg_public_keys: [
          {
            key_id: active.key.keyId,
            ascii_armor: active.key.armoredPublicKey,
            trust_signature: '',
            source: 'OpenDepot',
            source_url: `${base}${SIGNING_KEY_FILE}`, // no client reads it (protocol.md)
          },
        ],
      },
      // OpenTofu >= 1.12 (RFC 20251027): every platform's hashes and size in one answer; older
      // clients and Terraform ignore it. Sent only with an entry for this platform, which tofu requires.
      ...(release.packages?.[platform.key] === undefined ? {} : { packages: release.packages }),
    };
  });

  router.get('providers.shasums', '/:namespace/:type/:version/SHA256SUMS', async (ctx) => {
    await requireFile(ctx, 'SHA256SUMS');
    const sums = signedShasums(ctx, catalog, requireSigner);
    if (sums === undefined) return;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.set('ETag', `"${sums.digest}"`);
    ctx.body = sums.content;
  });

  router.get('providers.signature', '/:namespace/:type/:version/SHA256SUMS.sig', async (ctx) => {
    await requireFile(ctx, 'SHA256SUMS.sig');
    const sums = signedShasums(ctx, catalog, requireSigner);
    if (sums === undefined) return;
    let signature: Uint8Array;
    try {
      signature = await sums.signature();
    } catch (err) {
      log.error('signing SHA256SUMS failed', { provider: ctx.path, err: err instanceof Error ? err.message : String(err) });
      sendError(ctx, 500, 'the registry could not sign the package list; its log says why');
      return;
    }
    ctx.type = 'application/pgp-signature';
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.set('ETag', `"${sums.digest}"`);
    ctx.body = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  });

  router.get('providers.package', '/:namespace/:type/:version/:file.zip', async (ctx) => {
    const params = ctx.params as unknown as AddressParams & { file: string };
    const filename = `${params.file}.zip`;
    await requireFile(ctx, filename);
    const view = findProvider(catalog, params);
    const release = findRelease(view, params.version);
    const found = [...release.platforms.values()].find((p) => p.filename === filename);
    if (found === undefined) {
      throw new NotFoundError(`provider ${view.address} version ${release.version} has no package ${filename}; ${describePackages(release)}`);
    }
    const platform = servable(view, release, found, log);
    await serveArchive(ctx, deps, {
      archive: platform.state,
      label: `${view.address} ${release.version} ${platform.key}`,
      filename: platform.filename,
      resource: platform.resource,
    });
  });

  /** A signed URL for this file, or a caller granted the Provider. */
  async function requireFile(ctx: Context, file: string): Promise<void> {
    const params = ctx.params as unknown as AddressParams;
    const parsed = tryParseVersion(params.version);
    const version = typeof parsed === 'string' ? params.version : parsed.canonical;
    await access.requireDownload(ctx, packageId(params.namespace, params.type, version, file), () => resourceOf(findProvider(catalog, params)));
  }

  return router;
}

/** The Provider resource a request reads. */
function resourceOf(view: ProviderView): ProtectedResource {
  return { kind: 'Provider', namespace: view.namespace, name: view.owner };
}

/** What a provider file's download signature is bound to. */
function packageId(namespace: string, type: string, version: string, file: string): string {
  return artifactId('provider', [namespace, type, version, file]);
}

/** `namespace/type@version`: what a signed document belongs to. */
function scopeOf(view: ProviderView, release: ProviderRelease): string {
  return `${view.namespace}/${view.type}@${release.version}`.toLowerCase();
}

// The SHA256SUMS a download answer named (?digest=), so the file and its signature match even if
// a platform turned Ready in between; otherwise the current one. Undefined: the answer is sent.
function signedShasums(ctx: Context, catalog: ProviderCatalog, requireSigner: (ctx: Context) => ShasumsSigner | undefined): SignedShasums | undefined {
  const view = findProvider(catalog, ctx.params as unknown as AddressParams);
  const release = findRelease(view, (ctx.params as unknown as AddressParams).version);
  if (release.ready.length === 0) throw new NotFoundError(`provider ${view.address} version ${release.version} has no package available yet`);
  const signer = requireSigner(ctx);
  if (signer === undefined) return undefined;
  const scope = scopeOf(view, release);
  const wanted = typeof ctx.query.digest === 'string' ? ctx.query.digest : undefined;
  if (wanted !== undefined && wanted !== shasumsDigest(release.shasums)) {
    const earlier = signer.recall(scope, wanted);
    if (earlier !== undefined) return earlier;
  }
  return signer.document(release.shasums, scope);
}

function signerGuard(signer: ShasumsSigner | undefined, log: Logger): (ctx: Context) => ShasumsSigner | undefined {
  let warned = false;
  return (ctx) => {
    if (signer !== undefined) return signer;
    if (!warned) {
      warned = true;
      log.error('a provider download was asked for but no signing key is configured (server.gpg); answering 500');
    }
    // Not a 503: retrying cannot help until the configuration changes.
    sendError(ctx, 500, NO_SIGNING_KEY_MESSAGE);
    return undefined;
  };
}

function findProvider(catalog: ProviderCatalog, params: AddressParams): ProviderView {
  const view = catalog.find(params.namespace, params.type);
  if (view === undefined) {
    throw new NotFoundError(`provider ${params.namespace}/${params.type} not found: no Provider in namespace ${params.namespace} has providerConfig name ${params.type} with any version`);
  }
  return view;
}

function findRelease(view: ProviderView, requested: string): ProviderRelease {
  const parsed = tryParseVersion(requested);
  const release = typeof parsed === 'string' ? undefined : view.releases.get(parsed.canonical);
  if (release === undefined) throw new NotFoundError(`provider ${view.address} has no version ${requested}; ${describeAvailable(view)}`);
  return release;
}

function findPlatform(view: ProviderView, release: ProviderRelease, key: string): ProviderPlatform {
  const platform = release.platforms.get(key);
  if (platform === undefined) {
    // 404 is what clients report as "no package available for your current platform".
    throw new NotFoundError(`provider ${view.address} version ${release.version} has no package for ${key}; ${describePackages(release)}`);
  }
  return platform;
}

function servable(view: ProviderView, release: ProviderRelease, platform: ProviderPlatform, log: Logger): ReadyPlatform {
  if (platform.state.kind === 'ready') return platform as ReadyPlatform;
  throw notServableError(`provider ${view.address} version ${release.version} for ${platform.key}`, platform.resource, platform.state, log);
}

function describeAvailable(view: ProviderView): string {
  if (view.ready.length === 0) return 'it has no available versions yet';
  const newest = view.ready.slice(-LISTED_IN_ERRORS).map((r) => r.version);
  const more = view.ready.length - newest.length;
  return `available versions: ${newest.join(', ')}${more > 0 ? ` (and ${more} older)` : ''}`;
}

function describePackages(release: ProviderRelease): string {
  return release.ready.length === 0 ? 'none of its platforms is available yet' : `available platforms: ${release.ready.map((p) => p.key).join(', ')}`;
}
