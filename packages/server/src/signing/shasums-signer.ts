/**
 * Signs provider `SHA256SUMS` documents once per content and key, and remembers recent ones.
 * RSA 4096 signing costs milliseconds of CPU; every install fetches the signature, so it is made
 * on first request and reused until the content (a platform turning Ready) or the key changes.
 */
import { createHash } from 'node:crypto';
import type { SigningKey } from './signing-key.ts';

/** A signed `SHA256SUMS` document. */
export interface SignedShasums {
  /** The exact bytes that were signed. */
  content: Buffer;
  /** SHA-256 of `content`, lower-case hex: names this document in URLs (`?digest=`). */
  digest: string;
  /** The detached binary signature, made on first use. */
  signature(): Promise<Uint8Array>;
}

/** Options of {@link ShasumsSigner}. */
export interface ShasumsSignerOptions {
  /** Documents remembered; the least recently used is forgotten first. Default 1024 (a few hundred KB). */
  maxEntries?: number;
  /** Called each time a signature is actually computed (a metric). */
  onSign?(): void;
}

interface Entry {
  content: Buffer;
  signature?: Promise<Uint8Array>;
}

/** The SHA-256 of a document, lower-case hex. */
export function shasumsDigest(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

const cacheKey = (scope: string, digest: string) => `${scope}\n${digest}`;

/** A signature cache over one key: one entry per (provider version, content); the key is fixed. */
export class ShasumsSigner {
  readonly key: SigningKey;
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #onSign: (() => void) | undefined;

  constructor(key: SigningKey, options: ShasumsSignerOptions = {}) {
    this.key = key;
    this.#maxEntries = options.maxEntries ?? 1024;
    this.#onSign = options.onSign;
  }

  /**
   * The signed form of `content`, the package list of `scope` (a provider version); its
   * signature is computed at most once while remembered.
   */
  document(content: Buffer, scope: string): SignedShasums {
    const digest = shasumsDigest(content);
    let entry = this.#touch(scope, digest);
    if (entry === undefined) {
      entry = { content };
      this.#entries.set(cacheKey(scope, digest), entry);
      if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return this.#signed(digest, entry);
  }

  /**
   * A document of `scope` made earlier, by digest: it lets the `SHA256SUMS` and `.sig` a download
   * answer named be fetched as a pair even if a platform turned Ready in between.
   */
  recall(scope: string, digest: string): SignedShasums | undefined {
    const entry = this.#touch(scope, digest);
    return entry === undefined ? undefined : this.#signed(digest, entry);
  }

  #touch(scope: string, digest: string): Entry | undefined {
    const key = cacheKey(scope, digest);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #signed(digest: string, entry: Entry): SignedShasums {
    return {
      content: entry.content,
      digest,
      signature: () => {
        if (entry.signature === undefined) {
          this.#onSign?.();
          entry.signature = this.key.sign(entry.content);
          // A failure is not cached: the next request tries again.
          entry.signature.catch(() => (entry.signature = undefined));
        }
        return entry.signature;
      },
    };
  }
}
