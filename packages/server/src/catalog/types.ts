/** The cached resources the server reads, and how it sees a Version's state. */
import type { Informer, Module, StorageConfig, Version } from '@opendepot/core';

/** The informer caches the server answers from. More kinds join as protocols are added. */
export interface RegistryInformers {
  modules: Informer<Module>;
  versions: Informer<Version>;
}

/** A Version the server may serve: Ready, with a recorded checksum and size, and the storage key derived from its spec and namespace. */
export interface ServableArchive {
  kind: 'ready';
  /** SHA-256 of the stored archive, lowercase hex. */
  checksum: string;
  size: number;
  storageKey: string;
  storageConfig: StorageConfig;
  fileFormat: 'zip' | 'tar.gz';
}

/** Why a Version is not served (yet). */
export interface UnservableVersion {
  /** `syncing`: the operator is still working on it; `stalled`: it needs a change; `blocked`: the scan policy refused it; `removing`: it is being deleted. */
  kind: 'syncing' | 'stalled' | 'blocked' | 'removing';
  /** The server's own words for the client, e.g. `it is stalled`: never text from the operator or an upstream. */
  detail: string;
  /** A storage key the status names that differs from the derived one (ignored; logged by the catalog). */
  foreignStorageKey?: string;
  /**
   * A stable CamelCase code clients may see, e.g. `ChecksumMismatch`: the condition's reason when
   * it is one, otherwise a code of the server's.
   */
  reason: string;
  /** The condition's message (upstream errors, internal URLs): for the server's log only, never a response. */
  message?: string;
}

/** The state of one Version, from the server's point of view. */
export type VersionState = ServableArchive | UnservableVersion;

/** One version of a module, as the index keeps it. */
export interface ModuleVersionEntry {
  /** Canonical `X.Y.Z[-pre][+build]`, as clients request it. */
  version: string;
  /** The Version resource's own `namespace/name`, for logs. */
  resource: string;
  state: VersionState;
}
