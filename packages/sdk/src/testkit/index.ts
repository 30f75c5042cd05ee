/**
 * `@opendepot/sdk/testkit`: conformance suites every plugin of a kind must pass, and the data
 * helpers they are built from. Framework-independent: each case is a name and an async `run`
 * that throws on failure. Uses nothing but Node's built-in modules.
 * @packageDocumentation
 */
export type { ConformanceCase } from './case.ts';
export { storageConformanceCases, BAD_KEYS, BAD_SHA256, BAD_RANGES, type StorageCaseId, type StorageConformanceOptions } from './storage/index.ts';
export {
  archiveSourceConformanceCases,
  archiveFiles,
  formatOfFilename,
  makeTarGz,
  type ArchiveFormat,
  type ArchiveSourceCaseId,
  type ArchiveSourceConformanceOptions,
  type ArchiveSourceFixture,
  type RestoreUpstream,
  type UpstreamFailure,
  type UpstreamFailureStatus,
} from './archive-source/index.ts';
export { pseudoRandomChunks, pseudoRandomBytes, digestOf, sha256Hex, collectBytes, chunked, MiB, GiB, type Digest, type PseudoRandomOptions } from './data.ts';
export { expectRejection, expectCode, expectSuccess, isAbortError, within, describeError } from './expect.ts';
export { MemoryWatch, type MemoryGrowth } from './memory.ts';
export { configTable, readmeConfigTable } from './config-table.ts';
