/** Hashing uploads as they stream, and turning downloads into checked Node streams. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InputError, IntegrityError, UnavailableError } from '@opendepot/sdk';

/** What {@link hashing} learnt about the bytes that passed. */
export interface UploadTally {
  size: number;
  /** Set once the body ended: the SHA-256 (hex) of everything that passed. */
  sha256?: string;
  /** Why the body was cut short by {@link hashing} itself, if it was. */
  error?: Error;
}

/**
 * Passes `body` through, hashing and counting it. With `expectedSize`, a body that turns out
 * longer or shorter fails (as an `InputError`) before its last byte is sent.
 */
export async function* hashing(body: AsyncIterable<Uint8Array>, tally: UploadTally, expectedSize?: number): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash('sha256');
  for await (const chunk of body) {
    tally.size += chunk.byteLength;
    if (expectedSize !== undefined && tally.size > expectedSize) throw sizeError(tally, new InputError(`the body is longer than the ${expectedSize} bytes announced`, { field: 'size' }));
    hash.update(chunk);
    // With a known size the digest is taken at the last byte: the server may answer (and the put
    // resolve) before the request stream pulls this generator to its end.
    if (tally.size === expectedSize) tally.sha256 = hash.copy().digest('hex');
    yield chunk;
  }
  if (expectedSize !== undefined && tally.size !== expectedSize) throw sizeError(tally, new InputError(`the body has ${tally.size} bytes, not the ${expectedSize} announced`, { field: 'size' }));
  tally.sha256 = hash.digest('hex');
}

function sizeError(tally: UploadTally, err: Error): Error {
  tally.error = err;
  return err;
}

/** What a download must deliver. */
export interface Expected {
  /** Human-readable object name, for messages. */
  what: string;
  /** Bytes to skip first: a server that ignored `Range` sends the whole object. */
  skip: number;
  /** Bytes to deliver after that. */
  length: number;
  /** SHA-256 (hex) of the delivered bytes, when they are the whole object. */
  sha256?: string;
}

/**
 * A Node stream of `response`'s body, cut to exactly the expected bytes. It fails with an
 * `UnavailableError` when the server sends fewer, with an `IntegrityError` when a whole object
 * does not hash to its recorded checksum, and with the signal's reason when `signal` aborts.
 * Closing it early closes the download.
 */
export function downloadStream(response: Readable, expected: Expected, signal?: AbortSignal): Readable {
  return Readable.from(checked(response, expected, signal), { objectMode: false, highWaterMark: 256 * 1024 });
}

async function* checked(response: Readable, expected: Expected, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = expected.sha256 === undefined ? undefined : createHash('sha256');
  let skip = expected.skip;
  let left = expected.length;
  try {
    // Leaving the loop early (enough bytes, or the consumer stopped) destroys the response.
    for await (let chunk of response as AsyncIterable<Buffer>) {
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.byteLength);
        skip -= dropped;
        chunk = chunk.subarray(dropped);
      }
      if (chunk.byteLength > left) chunk = chunk.subarray(0, left);
      if (chunk.byteLength === 0) continue;
      left -= chunk.byteLength;
      hash?.update(chunk);
      yield chunk;
      if (left === 0) break;
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new UnavailableError(`the download of ${expected.what} from the WebDAV server failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    response.destroy();
  }
  signal?.throwIfAborted();
  if (left > 0) throw new UnavailableError(`the WebDAV server ended the download of ${expected.what} ${left} bytes short`);
  if (hash !== undefined && expected.sha256 !== undefined) {
    const actual = hash.digest('hex');
    if (actual !== expected.sha256) throw new IntegrityError(`${expected.what} on the WebDAV server hashes to sha256 ${actual}, not the recorded ${expected.sha256}: it was changed outside OpenDepot`);
  }
}
