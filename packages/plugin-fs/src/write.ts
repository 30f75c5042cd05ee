/** Streaming a body into a new file while hashing it, without ever holding more than a chunk. */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '@opendepot/sdk';
import { untilAborted } from '@opendepot/sdk';

/** SHA-256 (lowercase hex) and size of what was written. */
export interface WrittenFile {
  sha256: string;
  size: number;
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.byteLength - at);
    at += bytesWritten;
  }
}

/**
 * Creates `path` (which must not exist), writes `body` into it and flushes it to disk. An abort
 * is noticed even while the body stalls. On failure the file is left for the caller to remove.
 */
export async function writeNewFile(path: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): Promise<WrittenFile> {
  const handle = await open(path, 'wx', 0o644);
  const iterator = body[Symbol.asyncIterator]();
  let drained = false;
  // One write in flight while the next chunk is pulled and hashed: at most two chunks held.
  let writing: Promise<void> | undefined;
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const step = await untilAborted(iterator.next(), signal);
      if (step.done) break;
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) throw new InputError(`the body must yield Uint8Array chunks, got ${typeof chunk}`);
      hash.update(chunk);
      await writing;
      writing = writeAll(handle, chunk);
      size += chunk.byteLength;
    }
    drained = true;
    await writing;
    await handle.sync();
    return { sha256: hash.digest('hex'), size };
  } finally {
    // Stop an abandoned body (e.g. close its connection); a stalled one finishes this later.
    if (!drained) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    await writing?.catch(() => undefined);
    await handle.close();
  }
}
