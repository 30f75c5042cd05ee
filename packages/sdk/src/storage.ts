/** The `storage` plugin kind: where archives live. */

/** What a backend knows about a stored object. */
export interface ObjectInfo {
  /** The object's key, as given to `put`. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the content as lowercase hex, recorded when it was written. */
  sha256: string;
  /** When it was last written, if the backend knows. */
  modifiedAt?: Date;
}

/** Options of {@link StorageBackend.put}. */
export interface PutOptions {
  /** Abort the upload; nothing may become visible under the key afterwards. */
  signal?: AbortSignal;
  /** Size in bytes, when known in advance (helps multipart uploads choose part sizes). */
  size?: number;
  /**
   * Expected SHA-256 (64 hex digits, either case: `checkSha256` normalises it). When given, the
   * backend must refuse to make the object visible if the streamed content hashes differently,
   * and reject with an `IntegrityError` (`verifySha256`). A malformed value is an `InputError`.
   */
  sha256?: string;
  /** MIME type to record, if the backend keeps one. */
  contentType?: string;
}

/** Options of {@link StorageBackend.get}. */
export interface GetOptions {
  signal?: AbortSignal;
  /** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
  range?: { start: number; end?: number };
}

/** Options of {@link StorageBackend.stat} and {@link StorageBackend.delete}. */
export interface RequestOptions {
  signal?: AbortSignal;
}

/** Options of {@link StorageBackend.presign}. */
export interface PresignOptions {
  /** How long the URL stays valid, in seconds. */
  ttlSeconds: number;
  /** File name for `Content-Disposition`, if the backend supports it. */
  filename?: string;
}

/** A URL a client can download one object from, without credentials, until it expires. */
export interface PresignedUrl {
  url: string;
  expiresAt: Date;
}

/** What a storage backend can do beyond the basics. */
export interface StorageCapabilities {
  /** True when {@link StorageBackend.presign} is implemented. */
  presign: boolean;
}

/**
 * A place to keep archives. Implementations must:
 * - stream in both directions, never holding a whole object in memory;
 * - make a `put` atomic: readers see the old object or the complete new one, never a part;
 * - throw `NotFoundError` for missing keys, and treat `delete` of a missing key as success;
 * - honour `AbortSignal`s promptly;
 * - refuse keys that are empty, absolute, or contain `..` segments, with an `InputError`.
 *
 * `storage-guard.ts` holds these rules as functions (`checkKey`, `normalisePrefix`,
 * `checkPutOptions`, `checkRange`, `verifySha256`); a backend calls them instead of its own.
 */
export interface StorageBackend {
  readonly capabilities: StorageCapabilities;
  /** Stores `body` under `key`, hashing it as it streams; resolves once it is durable. */
  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<ObjectInfo>;
  /** Opens the object for reading. The stream errors if `signal` aborts. */
  get(key: string, options?: GetOptions): Promise<{ body: AsyncIterable<Uint8Array> & NodeJS.ReadableStream; info: ObjectInfo }>;
  /** Describes the object without reading it. */
  stat(key: string, options?: RequestOptions): Promise<ObjectInfo>;
  /** Deletes the object; succeeds when it is already gone. */
  delete(key: string, options?: RequestOptions): Promise<void>;
  /** A short-lived download URL for this object only. Present when `capabilities.presign`. */
  presign?(key: string, options: PresignOptions): Promise<PresignedUrl>;
  /**
   * Removes what interrupted puts left behind (temporary files, incomplete multipart uploads)
   * that have not changed for `olderThanMs`. Hosts call it at start, so a killed process never
   * leaves partial objects for good. Optional: a backend whose leftovers expire on their own
   * (e.g. uncommitted Azure blocks) may leave it out.
   */
  sweepTemporaries?(options: SweepOptions): Promise<SweepResult>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/** Options of {@link StorageBackend.sweepTemporaries}. */
export interface SweepOptions {
  /** Only leftovers unchanged for at least this long (a live writer keeps touching its own). */
  olderThanMs: number;
  signal?: AbortSignal;
}

/** What {@link StorageBackend.sweepTemporaries} removed. */
export interface SweepResult {
  /** Descriptions of what was removed (file paths, upload keys), for the log. */
  removed: string[];
}
