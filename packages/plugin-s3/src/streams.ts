/** Small stream helpers for `put`: hashing as bytes pass, aborting a stalled body, reading ahead. */
import { createHash, type Hash } from 'node:crypto';

/** SHA-256 and byte count of everything it was fed. */
export class StreamHasher {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #hex: string | undefined;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  /** The hex digest; call once all bytes were fed. */
  hex(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}

/** Views any chunk as a Buffer without copying it. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Iterates `source`, but rejects with the signal's reason as soon as it aborts, even while the
 * source is stalled; the source is then closed without waiting for it.
 */
export async function* abortable(source: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  let aborted: Promise<never> | undefined;
  let onAbort: (() => void) | undefined;
  if (signal !== undefined) {
    aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined); // observed below; never unhandled
  }
  let finished = false;
  try {
    while (true) {
      const next = iterator.next();
      const result = aborted === undefined ? await next : await Promise.race([next, aborted]);
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    // A stalled source may never answer `return`; do not wait for it.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/** What {@link readAhead} read. */
export interface ReadAhead {
  chunks: Buffer[];
  /** Bytes in `chunks`. */
  size: number;
  /** True when the source ended within the limit. */
  ended: boolean;
}

/**
 * Reads from `iterator` until more than `limit` bytes were read or it ends, feeding `hasher`.
 * Tells a body that fits one request from one that needs a multipart upload.
 */
export async function readAhead(iterator: AsyncIterator<Uint8Array>, limit: number, hasher: StreamHasher): Promise<ReadAhead> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const result = await iterator.next();
    if (result.done) return { chunks, size, ended: true };
    const chunk = asBuffer(result.value);
    if (chunk.byteLength === 0) continue;
    hasher.update(chunk);
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return { chunks, size, ended: false };
}

/** Yields `head` (already hashed) and then the rest of `iterator`, hashing the rest. */
export async function* hashedBody(head: Buffer[], iterator: AsyncIterator<Uint8Array>, hasher: StreamHasher): AsyncGenerator<Buffer> {
  // Emptied as it goes, so the read-ahead is not kept alive for the whole upload.
  for (let chunk = head.shift(); chunk !== undefined; chunk = head.shift()) yield chunk;
  while (true) {
    const result = await iterator.next();
    if (result.done) break;
    const chunk = asBuffer(result.value);
    if (chunk.byteLength === 0) continue;
    hasher.update(chunk);
    yield chunk;
  }
}
