/**
 * The one table of condition and Event reasons (CamelCase, as Kubernetes requires): what each
 * means, and what a Version in that state is. Every controller writes only these reasons, and
 * the server reads servability and its client-facing words from here.
 */

/** What one reason means. */
export interface ReasonMeaning {
  meaning: string;
  /** A Version in this state serves its stored archive (still or again). */
  servable: boolean;
  /** The operator retries on its own (backoff or the verify interval); false: a change from a person is needed. */
  retryable: boolean;
  /** A checksum or signature problem: the owner's `status.integrity` lists it. */
  integrity?: boolean;
  /** Shown as Stalled at once while the queue still retries (a cost limit hit on a transient cause). */
  stallsWhileRetrying?: boolean;
  /** What the server tells a client of a Version stalled for this reason: its own words, never an upstream's. */
  clientDetail?: string;
}

const table = {
  // Ready=True: the stored archive is served.
  Succeeded: { meaning: 'everything is stored and verified', servable: true, retryable: true },
  Verified: { meaning: 'the stored archive still matches its recorded sha256', servable: true, retryable: true },
  Restored: { meaning: 'a missing or changed stored archive was restored from the source', servable: true, retryable: true },
  StorageChanged: { meaning: "the owner's storageConfig moved the archive; it is stored at the new location", servable: true, retryable: true },
  Synced: { meaning: 'a Depot entry listed its upstream and applied its Module or Provider', servable: true, retryable: true },
  // In progress.
  Progressing: { meaning: 'work started or is in progress', servable: false, retryable: true },
  Deleting: { meaning: 'being deleted; cleanup runs', servable: false, retryable: true },
  DependencyNotReady: { meaning: 'something this object depends on is not ready yet', servable: false, retryable: true },
  // Failures the operator retries.
  SourceUnavailable: { meaning: 'the upstream (GitHub, a git remote, a registry) or storage failed or could not be reached', servable: false, retryable: true },
  RateLimited: { meaning: 'the upstream rate limited us; retried when it allows', servable: false, retryable: true },
  UpstreamTooSlow: { meaning: 'an upstream body was too slow or idle (operator.limits)', servable: false, retryable: true, stallsWhileRetrying: true },
  DeadlineExceeded: { meaning: 'a reconcile ran past operator.limits.reconcileTimeoutSeconds', servable: false, retryable: true, stallsWhileRetrying: true },
  ScanFailed: { meaning: 'a scanner could not scan the archive', servable: false, retryable: true },
  ScannerDatabaseMissing: { meaning: "the scanner has no vulnerability database (its plugin's cacheDir or dbRepository): nothing is called clean", servable: false, retryable: true },
  StorageFailed: { meaning: 'the storage backend failed', servable: false, retryable: true },
  InternalError: { meaning: 'an unexpected error (a bug or a passing fault)', servable: false, retryable: true },
  // Failures that need a change (Stalled).
  InvalidSpec: { meaning: 'the spec cannot be acted on (an unknown storage plugin, a bad constraint, a refused value)', servable: false, retryable: false },
  NotFound: { meaning: 'the upstream has no such module, provider, version or archive', servable: false, retryable: false },
  Conflict: { meaning: 'the change conflicts with what exists', servable: false, retryable: false },
  Unauthenticated: { meaning: 'the upstream or storage refused our credentials', servable: false, retryable: false },
  Forbidden: { meaning: 'the upstream or storage denied access', servable: false, retryable: false },
  LimitExceeded: { meaning: 'an upstream artefact exceeds an operator.limits cap', servable: false, retryable: false },
  ScanBlocked: { meaning: 'the scan policy refuses the archive; nothing was stored', servable: false, retryable: false },
  InvalidExpression: { meaning: "a GroupBinding's expression does not compile", servable: false, retryable: false },
  InvalidResourcePattern: { meaning: "a GroupBinding's resource glob is invalid", servable: false, retryable: false },
  // Integrity.
  VerificationFailed: {
    meaning: 'the upstream archive failed its checksum or signature check; nothing was stored',
    servable: false,
    retryable: false,
    integrity: true,
    clientDetail: 'it was refused because the upstream archive failed its checksum or signature check, so it is neither listed nor served',
  },
  ChecksumMismatch: {
    meaning: 'neither the stored archive nor the source matches the recorded sha256',
    servable: false,
    retryable: false,
    integrity: true,
    clientDetail: 'neither its stored archive nor its source matches the recorded checksum, so it is neither listed nor served',
  },
  ImmutableViolation: { meaning: "an immutable Version's upstream archive changed; the stored archive is kept and still served", servable: true, retryable: true, integrity: true },
  // Events only.
  TamperDetected: { meaning: 'a stored archive differs from its recorded sha256 (or is gone); it is restored from the source', servable: false, retryable: true },
  StorageKeyIgnored: { meaning: 'a status named a storage key other than the one derived from spec and namespace; ignored', servable: false, retryable: true },
  ArchiveStored: { meaning: 'an archive was stored', servable: true, retryable: true },
  ArchiveDeleted: { meaning: "a deleted Version's archive was removed from storage", servable: false, retryable: true },
  VersionsCreated: { meaning: 'an owner created Versions', servable: false, retryable: true },
  VersionRemoved: { meaning: 'an owner removed a Version no longer listed', servable: false, retryable: true },
  ForceSync: { meaning: "an owner's forceSync was passed to its Versions", servable: false, retryable: true },
  // The server's own codes for a Version it refuses.
  StorageKeyMismatch: { meaning: 'the status names a storage key its spec and namespace do not derive; never followed', servable: false, retryable: false },
  ChecksumNotRecorded: { meaning: 'Ready without a recorded checksum, size and key; never served unverified', servable: false, retryable: true },
} as const satisfies Record<string, ReasonMeaning>;

/** Every reason OpenDepot writes. */
export type Reason = keyof typeof table;

/** The table: each reason and what it means. */
export const REASON_TABLE: Readonly<Record<Reason, ReasonMeaning>> = table;

/** The reasons by name, e.g. `REASONS.ChecksumMismatch`. */
export const REASONS = Object.freeze(Object.fromEntries(Object.keys(table).map((r) => [r, r]))) as { readonly [R in Reason]: R };

/** The summary and specific condition types. */
export const CONDITIONS = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  /** An immutable Version's upstream archive differs from the recorded one (Version and owner; the stored archive is still served). */
  UpstreamChanged: 'UpstreamChanged',
} as const;

/** What `reason` means, or undefined for a reason not in the table (written by something else). */
export function reasonMeaning(reason: string): ReasonMeaning | undefined {
  return Object.hasOwn(table, reason) ? REASON_TABLE[reason as Reason] : undefined;
}

/** True when `reason` is in the table. */
export function isReason(reason: string): reason is Reason {
  return Object.hasOwn(table, reason);
}

/** True for reasons of checksum or signature problems. */
export function isIntegrityReason(reason: string): boolean {
  return reasonMeaning(reason)?.integrity === true;
}

/**
 * Whether a Ready=True condition with `reason` lets a Version be served: false only for reasons
 * the table says are not servable (a Ready=True written with a failure's reason is not trusted).
 */
export function readyReasonServes(reason: string): boolean {
  return reasonMeaning(reason)?.servable !== false;
}
