/** What a source author passes to the archive-source conformance suite. */
import type { ArchiveSource, ArchiveSubject, FetchOptions, UpstreamVersion } from '../../archive-source.ts';

/** Ends an upstream failure that {@link ArchiveSourceFixture.failUpstream} switched on. */
export type RestoreUpstream = () => Promise<void> | void;

/** An HTTP status the suite makes the upstream answer, and the error code it expects for it. */
export type UpstreamFailureStatus = 503 | 401 | 403;

/** The upstream's known content, and the switches the suite needs to provoke failures. */
export interface ArchiveSourceFixture {
  /** A subject the upstream holds. */
  subject: ArchiveSubject;
  /**
   * Versions `listVersions(subject)` must include (others may follow). A `ref` given here must
   * be listed as is; leave it out when the upstream's name is the version itself.
   */
  versions: readonly UpstreamVersion[];
  /** One version of `subject` to fetch, and what its archive must look like. */
  fetch: {
    version: string;
    options?: FetchOptions;
    /** The file name the source must declare, e.g. `terraform-aws-vpc-aws-1.2.0.zip`. */
    filename: string;
    /** Paths that must be in the archive, e.g. `['main.tf']`. Default: at least one file. */
    files?: readonly string[];
  };
  /** A subject the upstream does not hold. */
  missingSubject: ArchiveSubject;
  /** A canonical version `subject` does not have. */
  missingVersion: string;
  /**
   * Makes the upstream answer `status` to every request from now on (for a git remote: an HTTPS
   * remote that answers so; return the subject that points at it). Returns how to end it.
   */
  failUpstream(status: UpstreamFailureStatus): Promise<UpstreamFailure> | UpstreamFailure;
  /**
   * Makes a source whose size limit the archive of `fetch.version` exceeds (e.g. `maxBytes`
   * set below the archive's size); it is closed after use.
   */
  createLimited(): Promise<ArchiveSource> | ArchiveSource;
}

/** An upstream failure in force. */
export interface UpstreamFailure {
  restore: RestoreUpstream;
  /** The subject to ask about while it lasts. Default: the fixture's `subject`. */
  subject?: ArchiveSubject;
}

/** Options of {@link archiveSourceConformanceCases}. */
export interface ArchiveSourceConformanceOptions {
  /** Makes the source under test; called once per case, and `close`d when the case ends. */
  create(): Promise<ArchiveSource> | ArchiveSource;
  /** Called after each case, e.g. to reset the upstream. */
  cleanup?(): Promise<void> | void;
  fixture: ArchiveSourceFixture;
  /** How soon after an abort listing or fetching must fail. Default 2000 ms. */
  abortDeadlineMs?: number;
}

/** Applies the defaults and checks the numbers make sense. */
export function abortDeadlineOf(options: ArchiveSourceConformanceOptions): number {
  const ms = options.abortDeadlineMs ?? 2000;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`archiveSourceConformanceCases: abortDeadlineMs must be a positive integer, got ${ms}`);
  return ms;
}
