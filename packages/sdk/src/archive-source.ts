/** The `archive-source` plugin kind: where module and provider archives come from. */

/** A version the upstream offers. */
export interface UpstreamVersion {
  /** Canonical version, `X.Y.Z[-pre]`, without a leading `v`. */
  version: string;
  /** The upstream's own name for it (a tag such as `v1.2.0`), when it differs. */
  ref?: string;
  /** When it was published, ISO 8601, if known. */
  publishedAt?: string;
}

/** What is being asked for: a module, or one platform of a provider. */
export interface ArchiveSubject {
  kind: 'module' | 'provider';
  /** Module or provider name, e.g. `terraform-aws-eks` or `aws`. */
  name: string;
  /** Upstream namespace or owner, e.g. `terraform-aws-modules` or `hashicorp`. */
  namespace?: string;
  /** Module target system, e.g. `aws`. */
  system?: string;
  /** Upstream location, e.g. a repository URL or a registry base URL. */
  url?: string;
  /** Source-specific settings from the resource's spec. */
  settings?: Record<string, unknown>;
  /**
   * Reads a key of a Secret in the namespace of the resource that asks (the host scopes it, so a
   * source never reaches another namespace's Secrets), for credentials the resource references,
   * e.g. a Module's `githubClientConfig.secretRef`. Resolves `undefined` when the Secret or the
   * key is missing. Absent where the host has no Secret access.
   */
  readSecret?(name: string, key: string): Promise<string | undefined>;
}

/** Options of {@link ArchiveSource.listVersions}. */
export interface ListOptions {
  signal?: AbortSignal;
}

/** Options of {@link ArchiveSource.fetch}. */
export interface FetchOptions {
  signal?: AbortSignal;
  /** Requested archive format for modules. */
  format?: 'zip' | 'tar.gz';
  /** Provider platform. */
  os?: string;
  arch?: string;
}

/** An archive being fetched. */
export interface FetchedArchive {
  /** The bytes, streamed. */
  body: AsyncIterable<Uint8Array>;
  /** File name to serve it as, e.g. `terraform-provider-aws_5.80.0_linux_amd64.zip`. */
  filename: string;
  /** Size in bytes, if known in advance. */
  size?: number;
  /**
   * SHA-256 (hex) the upstream vouches for, already checked against its signature when the
   * upstream signs. The host verifies the streamed bytes against it before storing anything.
   */
  expectedSha256?: string;
  /** Provider plugin protocol versions the upstream declares, e.g. `['5.0']`. */
  protocols?: string[];
}

/** An upstream of archives: GitHub releases, a git remote, HashiCorp Releases, a registry. */
export interface ArchiveSource {
  /** The versions the upstream offers for `subject`. */
  listVersions(subject: ArchiveSubject, options?: ListOptions): Promise<UpstreamVersion[]>;
  /** Opens one version's archive. Throws `NotFoundError`, or `UnavailableError` to be retried. */
  fetch(subject: ArchiveSubject, version: string, options?: FetchOptions): Promise<FetchedArchive>;
  /**
   * Optional, for providers: the repository of `version`'s source code as the upstream names it
   * (an https URL, e.g. the HashiCorp Releases metadata's `url_source_repository` or a registry's
   * `source`), for the source scan. Resolves `undefined` when the upstream names none; throws
   * `UnavailableError` to be retried.
   */
  sourceRepository?(subject: ArchiveSubject, version: string, options?: ListOptions): Promise<string | undefined>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
