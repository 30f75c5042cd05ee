/**
 * Tokens this process has verified, by their SHA-256, with the principal each became: a token
 * seen again within the window skips the signature check, which is most of what an authenticated
 * request costs (a `tofu init` sends the same token dozens of times). An entry never outlives
 * the token's `exp` or the key set it was verified with (a rotation that retires a key forgets
 * every verification at once); the raw token is never kept.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '@opendepot/sdk';

export class VerifiedTokens {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #generation: () => number;
  #seenGeneration: number;

  constructor(options: { seconds: number; maxEntries: number; generation: () => number }) {
    this.#windowMs = options.seconds * 1000;
    this.#maxEntries = Math.max(1, options.maxEntries);
    this.#generation = options.generation;
    this.#seenGeneration = options.generation();
  }

  /** The principal of `token` if it was verified within the window and has not expired at `now`. */
  get(token: string, now: number): Principal | undefined {
    if (this.#windowMs <= 0 || this.#stale()) return undefined;
    const key = digest(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  /** Remembers a verified token until the window closes or it expires (`exp`, epoch seconds). */
  remember(token: string, principal: Principal, exp: number, now: number): void {
    // A key set that changed since the last look may have changed during this verification: do not
    // remember it under the new set (the next request verifies again).
    if (this.#windowMs <= 0 || this.#stale()) return;
    const until = Math.min(now + this.#windowMs, exp * 1000);
    if (until <= now) return;
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(digest(token), { principal, until });
  }

  /** Forgets everything when the key set changed since the last look; true when it did. */
  #stale(): boolean {
    const now = this.#generation();
    if (now === this.#seenGeneration) return false;
    this.#entries.clear();
    this.#seenGeneration = now;
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
