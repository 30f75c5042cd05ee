/** Safe, deterministic repacking of upstream module archives. */
export { DEFAULT_ARCHIVE_LIMITS, resolveLimits, type ArchiveLimits } from './limits.ts';
export { repackArchive, type InputFormat, type RepackOptions, type RepackedArchive } from './repack.ts';
export { FIXED_MTIME_UTC, type OutputFormat } from './write.ts';
export { safeEntryPath } from './entry-path.ts';
export { unpackArchive, type UnpackOptions } from './unpack.ts';
