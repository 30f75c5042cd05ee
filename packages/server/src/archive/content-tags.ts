/**
 * Keyed tags of archive content this process has already verified against its recorded SHA-256,
 * so a later download of the same stored object is checked with a tag ~20× cheaper to compute
 * (GMAC, AES-GCM over the bytes as additional data: AES-NI and carry-less multiply) instead of a
 * second SHA-256 (ADR 0008).
 *
 * Why this keeps the guarantee: the key is random per process and never leaves its memory (not
 * logged, not stored, not sent), and so are the tags. Whoever changes a stored object after it
 * was verified cannot compute the tag of the changed bytes without the key, so the change is
 * caught exactly where a SHA-256 mismatch would be: before the last chunk goes out. Each tag has
 * its own random IV, so no two tags share a GCM nonce.
 */
import { createCipheriv, randomBytes } from 'node:crypto';

/** Tags kept at most (each ~150 bytes); the least recently used go first. */
const DEFAULT_MAX_ENTRIES = 10_000;

/** A tag computation in progress. */
export interface ContentTagging {
  update(chunk: Buffer): void;
  /** The tag of everything given to `update`. */
  finish(): ContentTag;
}

/** The tag of one verified content, with the IV it was computed under. */
export interface ContentTag {
  readonly iv: Buffer;
  readonly tag: Buffer;
}

/** Which content: where it is stored and what was recorded for it. */
export interface ContentIdentity {
  storageKey: string;
  sha256: string;
  size: number;
}

const identityKey = ({ storageKey, sha256, size }: ContentIdentity) => `${sha256}\u0000${size}\u0000${storageKey}`;

/** The process's key and the tags of the contents it has verified. */
export class ContentTags {
  readonly #key = randomBytes(32);
  readonly #tags = new Map<string, ContentTag>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Starts a tag under a fresh IV (to remember it, or to compare with a remembered one). */
  start(iv: Buffer = randomBytes(12)): ContentTagging {
    const gmac = createCipheriv('aes-256-gcm', this.#key, iv);
    return {
      update: (chunk) => {
        gmac.setAAD(chunk);
      },
      finish: () => {
        gmac.final();
        return { iv, tag: gmac.getAuthTag() };
      },
    };
  }

  /** The tag remembered for this content, if it was verified before. */
  lookup(identity: ContentIdentity): ContentTag | undefined {
    const key = identityKey(identity);
    const tag = this.#tags.get(key);
    if (tag !== undefined) {
      // Most recently used last.
      this.#tags.delete(key);
      this.#tags.set(key, tag);
    }
    return tag;
  }

  /** Remembers the tag of content that has just matched its recorded SHA-256. */
  remember(identity: ContentIdentity, tag: ContentTag): void {
    const key = identityKey(identity);
    this.#tags.delete(key);
    this.#tags.set(key, tag);
    while (this.#tags.size > this.#maxEntries) this.#tags.delete(this.#tags.keys().next().value as string);
  }

  /** Drops a tag whose content no longer matched: the next download checks the SHA-256 again. */
  forget(identity: ContentIdentity): void {
    this.#tags.delete(identityKey(identity));
  }

  /** Tags held, for tests and metrics. */
  get size(): number {
    return this.#tags.size;
  }
}
