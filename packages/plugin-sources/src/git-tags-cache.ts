/**
 * One `git ls-remote` per repository per interval, shared by every caller: a Module with 2,000
 * Versions once ran 2,000 of them per verify interval. A failure is not kept (the next caller
 * tries again), and each caller stops waiting when its own signal aborts, without cancelling the
 * listing the others share (it is bounded by the git command's own timeout).
 */
import { untilAborted } from '@opendepot/sdk';

const MAX_REMEMBERED = 1024;

/** Tag sets by remote URL, each kept for `ttlMs`. */
export class SharedTagLists {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; tags: Promise<Set<string>> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** The tags of `url`: the shared answer while it is fresh, else a new `list()`. */
  get(url: string, list: () => Promise<Set<string>>, signal?: AbortSignal): Promise<Set<string>> {
    const now = Date.now();
    const cached = this.#entries.get(url);
    if (cached && now - cached.at < this.#ttlMs) return untilAborted(cached.tags, signal);
    const tags = list();
    if (this.#ttlMs > 0) {
      this.#entries.delete(url);
      this.#entries.set(url, { at: now, tags });
      tags.catch(() => {
        if (this.#entries.get(url)?.tags === tags) this.#entries.delete(url);
      });
      while (this.#entries.size > MAX_REMEMBERED) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return untilAborted(tags, signal);
  }
}
