/** Streams a body into one GCS object, hashing it on the way, with bounded memory. */
import { createHash } from 'node:crypto';
import { finished, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { File } from '@google-cloud/storage';
import { untilAborted } from '@opendepot/sdk';

/** Bodies at most this big (when their size is known) go up in one simple upload; others resumably. */
export const SINGLE_REQUEST_MAX_BYTES = 8 * 1024 * 1024;

// Resumable uploads stream the whole body in one request of the session, holding only the
// buffer in flight. Chunked sessions (`chunkSize`) would keep each chunk in memory to retry it:
// measured with 16 MiB chunks, a 1 GiB put grew memory by ~90 MiB, against ~24 MiB streaming.
// A failed streaming request is resumed from what GCS acknowledged when it can be; otherwise
// the put fails as unavailable and the host retries it.

/** What was uploaded. */
export interface Uploaded {
  sha256: string;
  size: number;
}

/** Options of {@link uploadTo}. */
export interface UploadOptions {
  signal?: AbortSignal | undefined;
  /** The body's size, when known: small bodies skip the resumable session. */
  size?: number | undefined;
  contentType?: string | undefined;
}

/** Yields `body` unchanged while feeding every chunk to `sha256` and counting bytes. */
async function* hashing(body: AsyncIterable<Uint8Array>, seen: { hash: ReturnType<typeof createHash>; size: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    seen.hash.update(chunk);
    seen.size += chunk.byteLength;
    yield chunk;
  }
}

/**
 * Uploads `body` to `file` and resolves with its SHA-256 and size once GCS has the complete
 * object. Rejects with the signal's reason as soon as it aborts, even while the body stalls;
 * the request is torn down, so GCS never completes the object. `settled` resolves once the
 * upload stream has finished or been torn down, so the caller can clean up after a late finish.
 */
export function uploadTo(file: File, body: AsyncIterable<Uint8Array>, options: UploadOptions = {}): { done: Promise<Uploaded>; settled: Promise<void> } {
  const seen = { hash: createHash('sha256'), size: 0 };
  const resumable = !(options.size !== undefined && options.size <= SINGLE_REQUEST_MAX_BYTES);
  const source = Readable.from(hashing(body, seen), { objectMode: false });
  const sink = file.createWriteStream({
    resumable,
    // The SHA-256 computed here is what the contract records; the client's crc32c check would
    // only repeat it at extra CPU cost.
    validation: false,
    metadata: { contentType: options.contentType ?? 'application/octet-stream' },
  });
  // Settled once the upload stream is finished or torn down (not the body: a stalled body may
  // never finish unwinding).
  const settled = new Promise<void>((resolve) => finished(sink, () => resolve()));
  const piped = pipeline(source, sink, ...(options.signal === undefined ? [] : [{ signal: options.signal }]));
  const done = untilAborted(piped, options.signal).then(() => ({ sha256: seen.hash.digest('hex'), size: seen.size }));
  return { done, settled };
}
