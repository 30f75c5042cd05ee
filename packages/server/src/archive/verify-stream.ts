/**
 * A pass-through that hashes an archive while it streams and lets the last chunk out only once
 * the whole content matched the recorded SHA-256 and size. On a mismatch it errors instead, so
 * the response is destroyed one chunk short of its Content-Length: the client sees a failed
 * transfer, never the wrong bytes as a success.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** The stored archive is not the one the Version recorded. */
export class ArchiveMismatchError extends Error {
  /** What differed. */
  readonly mismatch: 'checksum' | 'size';
  readonly expected: string;
  readonly actual: string;

  constructor(mismatch: 'checksum' | 'size', expected: string, actual: string) {
    super(`stored archive ${mismatch} ${actual} does not match the recorded ${mismatch} ${expected}`);
    this.name = 'ArchiveMismatchError';
    this.mismatch = mismatch;
    this.expected = expected;
    this.actual = actual;
  }
}

/** What the content must be. */
export interface ExpectedContent {
  /** SHA-256, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
}

/** Observers of a verifying stream, called synchronously. */
export interface VerifyHooks {
  /** Bytes let through, for byte counters. */
  onPush?(bytes: number): void;
  /** The content did not match; called before the stream errors with the same error. */
  onMismatch?(err: ArchiveMismatchError): void;
  /** The whole content matched; called before the last chunk is let through. */
  onVerified?(): void;
}

/** Creates the verifying pass-through. */
export function createVerifyingStream(expected: ExpectedContent, hooks: VerifyHooks = {}): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  let held: Buffer | undefined;
  const release = (stream: Transform, chunk: Buffer) => {
    stream.push(chunk);
    hooks.onPush?.(chunk.length);
  };
  const fail = (callback: TransformCallback, err: ArchiveMismatchError) => {
    hooks.onMismatch?.(err);
    callback(err);
  };
  return new Transform({
    // No queue on either side (the held chunk is the one buffer): a stalled client then pins
    // the fewest chunks, which is what bounds memory under many never-read downloads.
    readableHighWaterMark: 0,
    writableHighWaterMark: 0,
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      // Too long is known before the end: stop without sending any more of it.
      if (seen > expected.size) {
        fail(callback, new ArchiveMismatchError('size', String(expected.size), `more than ${expected.size}`));
        return;
      }
      hash.update(chunk);
      if (held !== undefined) release(this, held);
      held = chunk;
      callback();
    },
    flush(this: Transform, callback: TransformCallback) {
      if (seen !== expected.size) {
        fail(callback, new ArchiveMismatchError('size', String(expected.size), String(seen)));
        return;
      }
      const actual = hash.digest('hex');
      if (actual !== expected.sha256) {
        fail(callback, new ArchiveMismatchError('checksum', expected.sha256, actual));
        return;
      }
      hooks.onVerified?.();
      if (held !== undefined) release(this, held);
      held = undefined;
      callback();
    },
  });
}
