/** Assembles the read-only registry server: middleware, protocol routers, health and metrics. */
import { createLogger } from '@opendepot/core';
import type { Logger, Principal, ProtectedResource } from '@opendepot/sdk';
import type { PresignConfig } from '@opendepot/core';
import Koa from 'koa';
import type { PresignOf, ResolveStorage } from './archive/serve-archive.ts';
import { ContentTags } from './archive/content-tags.ts';
import { ArchiveMismatchError } from './archive/verify-stream.ts';
import { AccessControl, type NamedAuthProvider } from './auth/access-control.ts';
import { anonymousProvider } from './auth/anonymous.ts';
import { BrowserSessions } from './auth/browser-session.ts';
import { DownloadUrlSigner } from './auth/download-urls.ts';
import { ModuleCatalog } from './catalog/module-catalog.ts';
import { ProviderCatalog } from './catalog/provider-catalog.ts';
import type { RegistryInformers } from './catalog/types.ts';
import { errorHandler } from './http/errors.ts';
import { readOnly, securityHeaders } from './http/security.ts';
import { publicBase } from './http/public-base.ts';
import { untilSynced } from './http/until-synced.ts';
import { listen, type ListenOptions, type ListeningServer } from './listen.ts';
import { accessLog } from './observability/access-log.ts';
import { createMetrics, type ServerMetrics } from './observability/metrics.ts';
import { CONVENTIONAL_PROVIDERS_V1_PATH, DEFAULT_SERVICES, discoveryRoutes, PROVIDERS_V1_PATH, type ServiceDocument } from './routes/discovery.ts';
import { browserLoginRoutes, LOGIN_PATH, LOGOUT_PATH } from './routes/browser-login.ts';
import { healthRoutes, metricsRoutes } from './routes/health.ts';
import { mirrorRoutes } from './routes/mirror.ts';
import { CONVENTIONAL_MODULES_V1_PATH, moduleRoutes, MODULES_V1_PATH } from './routes/modules.ts';
import { providerRoutes, signingKeyRoutes } from './routes/providers.ts';
import { DocsStore } from './ui/docs-store.ts';
import { CatalogListing } from './ui/catalog-listing.ts';
import { uiRoutes } from './ui/routes.ts';
import { ShasumsSigner } from './signing/shasums-signer.ts';
import { whoamiRoutes } from './routes/whoami.ts';
import type { SigningKey } from './signing/signing-key.ts';

/** Options of {@link createRegistryServer}. */
export interface RegistryServerOptions {
  /**
   * Informer caches of Modules and Versions (all namespaces the server serves); provider
   * Versions carry everything the provider protocols need. The server only reads them and
   * subscribes to their events; starting them is the caller's job.
   */
  informers: RegistryInformers;
  /** Opens the storage backend of a Version's `storageConfig` (see {@link ResolveStorage}). */
  resolveStorage: ResolveStorage;
  /**
   * The key provider `SHA256SUMS` are signed with (see `loadSigningKey`). Without it the
   * providers.v1 download, `SHA256SUMS` and `.sig` routes answer 500 (nothing unsigned is
   * served); versions, packages and the network mirror work regardless.
   */
  signingKey?: SigningKey;
  /** The chart-wide presign settings, for each field an archive's storageConfig (and its storage profile) leave unset. */
  defaultPresign?: PresignConfig;
  /** The presign settings of a `storageConfig`: its own over its storage profile's, field by field (core's `StorageResolver.check`). */
  presignOf?: PresignOf;
  /** Structured logger; default: core's JSON logger (secrets redacted) to stdout at `info`. */
  logger?: Logger;
  /** The discovery document; default {@link DEFAULT_SERVICES}. */
  services?: ServiceDocument;
  /**
   * `server.externalUrl`: the base of every URL the server hands out. Unset, each answer's URLs
   * are built from its request (its `Host`; `X-Forwarded-*` only from `trustedProxies`).
   */
  externalUrl?: string;
  /** `server.trustedProxies`: peers (IPs or CIDRs) whose `X-Forwarded-Proto`/`-Host`/`-Prefix` are believed. */
  trustedProxies?: readonly string[];
  /** Trust `X-Forwarded-*` from a reverse proxy for the client address. Default false. */
  trustProxy?: boolean;
  /** Also export process and Node.js runtime metrics. Default true. */
  defaultMetrics?: boolean;
  /**
   * Who may read what. Unset: anonymous access only (everyone reads everything). The providers
   * are asked in order and the first that does not abstain decides; a chain without the
   * `anonymous` provider signs the download URLs it writes.
   */
  auth?: {
    providers: readonly NamedAuthProvider[];
    /** Lifetime of signed download URLs. Default 300 s. */
    downloadUrlTtlSeconds?: number;
    /**
     * HMAC key of signed download URLs (at least 32 bytes), shared by every replica; default: a
     * random one. Browser session cookies are signed with a key derived from it (default: a random
     * one, so sessions end with the process and hold on one replica only).
     */
    downloadUrlSecret?: Buffer;
    /** The longest a browser session lasts (it never outlasts the ID token it came from). Default 8 h. */
    browserSessionMaxSeconds?: number;
  };
  /**
   * The GroupBinding check, for principals whose provider does not authorize them itself (OIDC).
   * Unset: such a principal is granted nothing.
   */
  grants?: (principal: Principal, resource: ProtectedResource) => boolean;
}

/** A registry server, ready to listen. */
export interface RegistryServer {
  /** The koa application (its `callback()` is the request handler). */
  app: Koa;
  /** The module indexes over the informer caches. */
  catalog: ModuleCatalog;
  /** The provider indexes (providers.v1 and the network mirror) over the Version cache. */
  providers: ProviderCatalog;
  metrics: ServerMetrics;
  /** Who is asking and what they may read (`identify`, `require`, `filterGranted`), for routes mounted on {@link app}. */
  access: AccessControl;
  /** Listens on a port, over HTTPS when `tls` names certificate files. */
  listen(options: ListenOptions): Promise<ListeningServer>;
  /** Serves `/metrics` (and nothing else) on a port of its own; the registry's port answers 404 for it. */
  listenMetrics(options: ListenOptions): Promise<ListeningServer>;
  /** Stops following the informers. */
  dispose(): void;
}

// Ends of a response the server expects and logs elsewhere, or that only mean the client left.
const QUIET_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ABORT_ERR']);

/**
 * Creates the registry server: modules.v1, providers.v1 (signed) and the provider network mirror.
 * It answers from the informer caches only (never an API-server call per request), serves only
 * GET and HEAD, and streams archives from storage, verifying them against the checksum recorded
 * on their Version.
 */
export function createRegistryServer(options: RegistryServerOptions): RegistryServer {
  const log = options.logger ?? createLogger({ name: 'opendepot-server' });
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const catalog = new ModuleCatalog(options.informers, log);
  const providers = new ProviderCatalog(options.informers.versions, log);
  const signer = options.signingKey && new ShasumsSigner(options.signingKey, { onSign: () => metrics.signatures.inc() });
  const app = new Koa({ proxy: options.trustProxy ?? false });
  const baseOf = publicBase({ ...(options.externalUrl !== undefined && { externalUrl: options.externalUrl }), trustedProxies: options.trustedProxies ?? [] });
  const authProviders = options.auth?.providers ?? [{ name: 'anonymous', provider: anonymousProvider() }];
  // Sessions only where a browser can sign in (e.g. Dex): nothing changes for anyone else.
  const browserSignIn = authProviders.some((p) => p.provider.browserLogin !== undefined);
  const access = new AccessControl({
    providers: authProviders,
    log,
    metrics,
    ...(options.grants && { grants: options.grants }),
    // Anyone may download when anonymous access is on: then no URL needs a signature.
    ...(!authProviders.some((p) => p.name === 'anonymous') && {
      downloadUrls: new DownloadUrlSigner({ ttlSeconds: options.auth?.downloadUrlTtlSeconds ?? 300, ...(options.auth?.downloadUrlSecret && { secret: options.auth.downloadUrlSecret }) }),
    }),
    ...(browserSignIn && {
      sessions: new BrowserSessions({
        ...(options.auth?.downloadUrlSecret && { secret: options.auth.downloadUrlSecret }),
        ...(options.auth?.browserSessionMaxSeconds !== undefined && { maxSeconds: options.auth.browserSessionMaxSeconds }),
      }),
    }),
  });
  if (browserSignIn && options.auth?.downloadUrlSecret === undefined) {
    log.warn('browser sessions are signed with a random key of this process (auth.downloadUrlSecretFile is not set): they end with the process, and with several replicas a session holds on one only');
  }
  const login = access.loginV1();
  const services = { ...(options.services ?? DEFAULT_SERVICES), ...(login && { 'login.v1': { ...login } }) };

  app.on('error', (err: Error & { code?: string }) => {
    if (err instanceof ArchiveMismatchError || QUIET_ERROR_CODES.has(err.code ?? '')) return;
    log.warn('response ended with an error', { error: err.message, code: err.code });
  });

  const { modules, versions } = options.informers;
  const readiness = [
    { name: 'modules informer', ready: () => modules.synced() },
    { name: 'versions informer', ready: () => versions.synced() },
  ];

  app.use(accessLog(log, metrics));
  app.use(securityHeaders());
  app.use(errorHandler(log));
  app.use(readOnly());
  // Later protocols (login) are more routers mounted here.
  const archives = {
    access,
    resolveStorage: options.resolveStorage,
    log,
    metrics,
    contentTags: new ContentTags(),
    ...(options.defaultPresign && { defaultPresign: options.defaultPresign }),
    ...(options.presignOf && { presignOf: options.presignOf }),
  };
  // The browser sign-in and whoami answer signed-out callers, and need no cache.
  for (const router of [healthRoutes(readiness), discoveryRoutes(services), browserLoginRoutes({ access, baseOf, log }), whoamiRoutes(access)]) app.use(router.routes());
  // Below this gate, nothing is answered before the caches have synced (503, not a false 404).
  app.use(untilSynced(readiness));
  // The signing key is public: served before the credential check.
  for (const prefix of [PROVIDERS_V1_PATH, CONVENTIONAL_PROVIDERS_V1_PATH]) app.use(signingKeyRoutes(signer, prefix).routes());
  // The browse UI and its JSON API authenticate themselves: an unknown caller gets a sign-in page.
  const listing = new CatalogListing(catalog, providers, options.informers);
  const ui = uiRoutes({
    modules: catalog,
    providers,
    versions: options.informers.versions,
    listing,
    access,
    docs: new DocsStore(options.resolveStorage, log),
    baseOf,
    ...(options.signingKey && { signingKeyId: options.signingKey.keyId }),
    ...(access.browserLogin() && { browserLogin: { loginUrl: (next: string) => `${LOGIN_PATH}?next=${encodeURIComponent(next)}`, logoutUrl: LOGOUT_PATH } }),
  });
  app.use(ui.routes());
  // Everything below needs an authenticated caller, or a signed download URL.
  app.use(access.middleware());
  for (const router of [
    // The discovered paths, and the conventional ones some tools assume without discovery.
    ...[MODULES_V1_PATH, CONVENTIONAL_MODULES_V1_PATH].map((prefix) => moduleRoutes({ catalog, baseOf, ...archives }, prefix)),
    ...[PROVIDERS_V1_PATH, CONVENTIONAL_PROVIDERS_V1_PATH].map((prefix) => providerRoutes({ catalog: providers, signer, baseOf, ...archives }, prefix)),
    mirrorRoutes({ catalog: providers, access, baseOf }),
  ]) {
    app.use(router.routes());
  }

  const metricsApp = new Koa();
  metricsApp.use(securityHeaders());
  metricsApp.use(errorHandler(log));
  metricsApp.use(readOnly());
  metricsApp.use(metricsRoutes(metrics.registry).routes());

  return {
    app,
    catalog,
    providers,
    metrics,
    access,
    listen: (listenOptions) => listen(app.callback(), listenOptions),
    listenMetrics: (listenOptions) => listen(metricsApp.callback(), listenOptions),
    dispose: () => {
      catalog.dispose();
      providers.dispose();
      listing.dispose();
    },
  };
}
