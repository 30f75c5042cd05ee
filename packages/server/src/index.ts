/**
 * `@opendepot/server`: the read-only registry. It answers the OpenTofu/Terraform registry
 * protocols (modules.v1, providers.v1 with signed SHA256SUMS, the provider network mirror) from
 * informer caches and streams verified archives from storage.
 * @packageDocumentation
 */
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server.ts';
export type { ListenOptions, ListeningServer } from './listen.ts';
export type { ResolveStorage } from './archive/serve-archive.ts';
export { ContentTags, type ContentTag, type ContentIdentity } from './archive/content-tags.ts';
export { ArchiveMismatchError, createVerifyingStream, type ExpectedContent, type VerifyWithTags } from './archive/verify-stream.ts';
export { ModuleCatalog, type ModuleView, type CatalogLogger } from './catalog/module-catalog.ts';
export { ProviderCatalog } from './catalog/provider-catalog.ts';
export { keepServedFields, keepServedFieldsWith, registryInformers, SharedValues, SERVER_LIST_PAGE_SIZE, SERVER_STREAMING_LIST } from './catalog/cached-objects.ts';
export type { ProviderPlatform, ProviderRelease, ProviderView, ReadyPlatform } from './catalog/provider-view.ts';
export type { MirrorArchive, MirrorView } from './catalog/mirror-view.ts';
export { mirrorAddressKeys, RELEASES_MIRROR_HOSTS } from './catalog/provider-address.ts';
export { loadSigningKey, signingKeyOf, type SigningKey } from './signing/signing-key.ts';
export { ShasumsSigner, type SignedShasums } from './signing/shasums-signer.ts';
export type { ModuleVersionEntry, RegistryInformers, ServableArchive, UnservableVersion, VersionState } from './catalog/types.ts';
export { versionState } from './catalog/version-state.ts';
export { DEFAULT_SERVICES, PROVIDERS_V1_PATH, type ServiceDocument } from './routes/discovery.ts';
export { ARCHIVE_FILES, MODULES_V1_PATH } from './routes/modules.ts';
export { NO_SIGNING_KEY_MESSAGE, SIGNING_KEY_FILE } from './routes/providers.ts';
export { MIRROR_V1_PATH } from './routes/mirror.ts';
export type { ServerMetrics } from './observability/metrics.ts';
export { AccessControl, ANONYMOUS_SUBJECT, type AuthState, type Grants, type NamedAuthProvider } from './auth/access-control.ts';
export { anonymousProvider } from './auth/anonymous.ts';
export { artifactId, DownloadUrlSigner, EXPIRY_PARAM, SIGNATURE_PARAM, type SignatureCheck } from './auth/download-urls.ts';
export { bearerToken, kubeconfigProvider, kubernetesProvider, looksLikeKubeconfig, type KubernetesAuthOptions, type KubernetesProviderOptions } from './auth/kubernetes.ts';
export { startServer, type StartServerOptions, type RunningServer } from './start.ts';
