/**
 * `@opendepot/archive-kit`: what the operator and the archive-source plugins share. Safe,
 * deterministic repacking and unpacking of upstream module archives, provider package hashing,
 * and the errors that name the limit an upstream hit.
 * @packageDocumentation
 */
export { DEFAULT_ARCHIVE_LIMITS, resolveLimits, type ArchiveLimits } from './limits.ts';
export { repackArchive, type InputFormat, type RepackOptions, type RepackedArchive } from './repack.ts';
export { FIXED_MTIME_UTC, type OutputFormat } from './write.ts';
export { safeEntryPath } from './entry-path.ts';
export { unpackArchive, type UnpackOptions } from './unpack.ts';
export {
  providerPackageHashes,
  spooledPackageHashes,
  spoolHashed,
  hashZipFile,
  DEFAULT_PROVIDER_ZIP_LIMITS,
  type ProviderPackageHashes,
  type ProviderZipLimits,
  type SpooledFile,
} from './provider-hashes.ts';
export { LimitExceededError, UpstreamTooSlowError, limitReason } from './limit-errors.ts';
export {
  moduleArchiveSubject,
  providerArchiveSubject,
  subjectSettings,
  type GithubClientSettings,
  type ModuleSourceConfig,
  type ModuleSubjectSettings,
  type ProviderSourceConfig,
} from './subjects.ts';
