/**
 * Block upload: the body is cut into blocks that are staged while it streams and hashed on the
 * way; only once the whole body hashed as expected is the block list committed. Staged blocks
 * are invisible, so a put that fails, is refused or is aborted leaves the key as it was (the
 * service discards uncommitted blocks later).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BlockBlobClient } from '@azure/storage-blob';
import { untilAborted, verifySha256 } from '@opendepot/sdk';

/** Azure's limit on blocks per blob. */
const MAX_BLOCKS = 50_000;
/** Azure's limit on one block. */
const MAX_BLOCK_BYTES = 4000 * 1024 * 1024;
/** With an unknown size, blocks double in size after this many, so 50,000 blocks reach terabytes. */
const BLOCKS_PER_SIZE_STEP = 10_000;

/** How the body is cut and sent. */
export interface BlockUploadOptions {
  /** Smallest block size in bytes. */
  blockBytes: number;
  /** Blocks staged at once; memory use is about `blockBytes * (concurrency + 1)`. */
  concurrency: number;
  /** The body's size when known, to pick a block size that fits Azure's block count. */
  size?: number | undefined;
  /** When set, the content must hash to this (lowercase hex) or nothing is committed. */
  expectedSha256?: string | undefined;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  /** For messages. */
  key: string;
}

/** What a committed upload wrote. */
export interface UploadResult {
  sha256: string;
  size: number;
  lastModified: Date | undefined;
}

/** The block size for block number `index`. */
function blockSizer(options: BlockUploadOptions): (index: number) => number {
  if (options.size !== undefined && options.size > 0) {
    const fixed = Math.min(MAX_BLOCK_BYTES, Math.max(options.blockBytes, Math.ceil(options.size / MAX_BLOCKS)));
    return () => fixed;
  }
  return (index) => Math.min(MAX_BLOCK_BYTES, options.blockBytes * 2 ** Math.floor(index / BLOCKS_PER_SIZE_STEP));
}

/**
 * Block IDs unique to this upload, all of one length (Azure requires that of every block of a
 * blob, committed or not, so concurrent writers must use the same format).
 */
function blockIds(): (index: number) => string {
  const upload = randomBytes(16).toString('hex');
  return (index) => Buffer.from(`${upload}-${index.toString().padStart(6, '0')}`).toString('base64');
}

/** Streams `body` into `blob` as staged blocks and commits them with the SHA-256 as metadata. */
export async function uploadBlocks(blob: BlockBlobClient, body: AsyncIterable<Uint8Array>, options: BlockUploadOptions): Promise<UploadResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  // Cancels staging still in flight when the put fails or is aborted.
  const stop = new AbortController();
  const staging = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const sizeOf = blockSizer(options);
  const idOf = blockIds();
  const ids: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  const hash = createHash('sha256');
  let size = 0;

  // Block buffers are reused once their block is staged: a put allocates at most
  // `concurrency + 1` of them, however large the body.
  const spare: Buffer[] = [];
  const take = (bytes: number): Buffer => {
    const reused = spare.pop();
    return reused !== undefined && reused.byteLength === bytes ? reused : Buffer.allocUnsafe(bytes);
  };

  const stage = (buffer: Buffer, length: number): void => {
    const id = idOf(ids.length);
    ids.push(id);
    const request = blob.stageBlock(id, buffer.subarray(0, length), length, { abortSignal: staging }).then(
      () => void spare.push(buffer),
      (err: unknown) => {
        failure ??= { err };
        stop.abort();
      },
    );
    inFlight.add(request);
    void request.then(() => inFlight.delete(request));
  };
  const throwIfFailed = (): void => {
    signal?.throwIfAborted();
    if (failure !== undefined) throw failure.err;
  };

  const iterator = body[Symbol.asyncIterator]();
  let finished = false;
  try {
    // The block being filled: chunks are copied in at once, so a producer may reuse its buffers.
    let block = take(sizeOf(0));
    let filled = 0;
    for (;;) {
      // Raced against the signal, so a body that stalls cannot hold up an abort or a failure.
      const next = await untilAborted(iterator.next(), staging).catch((err: unknown) => {
        throwIfFailed();
        throw err;
      });
      if (next.done) break;
      const chunk = next.value;
      hash.update(chunk);
      size += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(block.byteLength - filled, chunk.byteLength - offset);
        block.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === block.byteLength) {
          while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
          throwIfFailed();
          stage(block, filled);
          block = take(sizeOf(ids.length));
          filled = 0;
        }
      }
    }
    finished = true;
    if (filled > 0) stage(block, filled);
    await Promise.all(inFlight);
    throwIfFailed();

    const sha256 = hash.digest('hex');
    verifySha256(options.key, options.expectedSha256, sha256);
    signal?.throwIfAborted(); // the last moment an abort can still cancel the put
    // The commit point: the blob changes to exactly these blocks, atomically.
    const committed = await blob.commitBlockList(ids, {
      metadata: { sha256 },
      ...(options.contentType === undefined ? {} : { blobHTTPHeaders: { blobContentType: options.contentType } }),
      ...(signal === undefined ? {} : { abortSignal: signal }),
    });
    return { sha256, size, lastModified: committed.lastModified };
  } finally {
    stop.abort();
    // An abandoned body is told to finish; one that is stuck will see it when it resumes.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
