/**
 * `@opendepot/server`: the read-only registry. It answers the OpenTofu/Terraform registry
 * protocols from informer caches and streams verified archives from storage.
 * @packageDocumentation
 */
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server.ts';
export type { ListenOptions, ListeningServer } from './listen.ts';
export type { ResolveStorage } from './archive/serve-archive.ts';
export { ArchiveMismatchError, createVerifyingStream, type ExpectedContent } from './archive/verify-stream.ts';
export { ModuleCatalog, type ModuleView, type CatalogLogger } from './catalog/module-catalog.ts';
export type { ModuleVersionEntry, RegistryInformers, ServableArchive, UnservableVersion, VersionState } from './catalog/types.ts';
export { versionState } from './catalog/version-state.ts';
export { DEFAULT_SERVICES, PROVIDERS_V1_PATH, type ServiceDocument } from './routes/discovery.ts';
export { ARCHIVE_FILES, MODULES_V1_PATH } from './routes/modules.ts';
export type { ServerMetrics } from './observability/metrics.ts';
export { startServer, type StartServerOptions, type RunningServer } from './start.ts';
