/**
 * A pass-through that lets exactly `length` bytes out and errors on more or fewer, so a storage
 * read that runs short or long ends as a failed transfer, never as a wrong-length success.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Observers of a length-checking stream, called synchronously. */
export interface LengthHooks {
  /** Bytes let through, for byte counters. */
  onPush?(bytes: number): void;
  /** Exactly `length` bytes went through. */
  onComplete?(): void;
}

/** Creates the pass-through for a body of `length` bytes. */
export function createLengthCheckingStream(length: number, hooks: LengthHooks = {}): Transform {
  let seen = 0;
  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > length) {
        callback(new Error(`storage returned more than the ${length} bytes asked for`));
        return;
      }
      hooks.onPush?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (seen !== length) {
        callback(new Error(`storage returned ${seen} of the ${length} bytes asked for`));
        return;
      }
      hooks.onComplete?.();
      callback();
    },
  });
}
