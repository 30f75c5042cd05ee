/**
 * A pass-through that hashes an archive while it streams and lets the last chunk out only once
 * the whole content matched the recorded SHA-256 and size. On a mismatch it errors instead, so
 * the response is destroyed one chunk short of its Content-Length: the client sees a failed
 * transfer, never the wrong bytes as a success.
 *
 * With {@link ContentTags}, content this process has verified before is checked against its
 * keyed tag instead of a second SHA-256 (same guarantee, a fraction of the CPU; ADR 0008), and
 * content verified now gets its tag remembered.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ContentIdentity, ContentTag, ContentTags, ContentTagging } from './content-tags.ts';

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
  /** The whole content matched (by its SHA-256, or by the keyed tag of an earlier verification); called before the last chunk is let through. */
  onVerified?(by: 'sha256' | 'tag'): void;
}

/** Where remembered tags live and which stored object this is. */
export interface VerifyWithTags {
  tags: ContentTags;
  storageKey: string;
}

/** How the content is being checked: a SHA-256 (tagging it on the way when tags are kept), or a remembered tag. */
interface Check {
  update(chunk: Buffer): void;
  /** A mismatch, or undefined when the content matched. */
  finish(): ArchiveMismatchError | undefined;
  readonly by: 'sha256' | 'tag';
}

function checkBySha256(expected: ExpectedContent, remember?: { tags: ContentTags; identity: ContentIdentity }): Check {
  const hash = createHash('sha256');
  const tagging: ContentTagging | undefined = remember?.tags.start();
  return {
    by: 'sha256',
    update(chunk) {
      hash.update(chunk);
      tagging?.update(chunk);
    },
    finish() {
      const actual = hash.digest('hex');
      if (actual !== expected.sha256) return new ArchiveMismatchError('checksum', expected.sha256, actual);
      if (remember && tagging) remember.tags.remember(remember.identity, tagging.finish());
      return undefined;
    },
  };
}

function checkByTag(tags: ContentTags, identity: ContentIdentity, known: ContentTag): Check {
  const tagging = tags.start(known.iv);
  return {
    by: 'tag',
    update: (chunk) => tagging.update(chunk),
    finish() {
      if (timingSafeEqual(tagging.finish().tag, known.tag)) return undefined;
      // Changed since it was verified: the next download computes (and reports) its SHA-256.
      tags.forget(identity);
      return new ArchiveMismatchError('checksum', identity.sha256, 'another content than the one verified before (its keyed tag differs)');
    },
  };
}

/** Creates the verifying pass-through. */
export function createVerifyingStream(expected: ExpectedContent, hooks: VerifyHooks = {}, withTags?: VerifyWithTags): Transform {
  const identity = withTags && { storageKey: withTags.storageKey, sha256: expected.sha256, size: expected.size };
  const known = identity && withTags.tags.lookup(identity);
  const check = identity && known ? checkByTag(withTags.tags, identity, known) : checkBySha256(expected, identity && { tags: withTags.tags, identity });
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
      check.update(chunk);
      if (held !== undefined) release(this, held);
      held = chunk;
      callback();
    },
    flush(this: Transform, callback: TransformCallback) {
      if (seen !== expected.size) {
        fail(callback, new ArchiveMismatchError('size', String(expected.size), String(seen)));
        return;
      }
      const mismatch = check.finish();
      if (mismatch) {
        fail(callback, mismatch);
        return;
      }
      hooks.onVerified?.(check.by);
      if (held !== undefined) release(this, held);
      held = undefined;
      callback();
    },
  });
}
