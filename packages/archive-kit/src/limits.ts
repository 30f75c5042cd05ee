/** Size and count limits that make repacking an untrusted upstream archive safe. */

/** Caps applied while an upstream archive is read. Bytes are counted as they stream, never taken from headers. */
export interface ArchiveLimits {
  /** Compressed bytes read from the upstream (also the cap of a spooled zip). */
  maxInputBytes: number;
  /** Uncompressed bytes of all file contents together. */
  maxTotalBytes: number;
  /** Uncompressed bytes of one file. */
  maxEntryBytes: number;
  /** Entries of any type (files, directories, links). */
  maxEntries: number;
}

/** Defaults: generous for a Terraform module, far below what would hurt the operator. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxInputBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntryBytes: 128 * 1024 * 1024,
  maxEntries: 20_000,
});

/** The defaults overridden by `overrides`, each checked to be a positive integer. */
export function resolveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`archive limit ${key} must be a positive integer, got ${String(value)}`);
  }
  return limits;
}

/** Formats a byte count for messages, e.g. `128 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}
