/** A download body that checks itself: it fails with IntegrityError unless its bytes hash to the signed checksum. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { IntegrityError } from '@opendepot/sdk';

/** The ceiling of a provider package; real ones are well below 1 GiB. */
export const MAX_PROVIDER_BYTES = 4 * 1024 * 1024 * 1024;

/**
 * Streams `body`, hashing as it goes; after the last byte it errors with IntegrityError when the
 * SHA-256 is not `expectedSha256` (or the size is not `expectedSize`, when known). Defence in
 * depth: the storage backend checks the same checksum before anything becomes visible.
 */
export function verifiedBody(
  body: AsyncIterable<Uint8Array>,
  expected: { sha256: string; size?: number; what: string },
  onAbandoned?: () => void,
): Readable {
  async function* checked(): AsyncGenerator<Uint8Array> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > (expected.size ?? MAX_PROVIDER_BYTES)) {
        throw new IntegrityError(`${expected.what} is larger than ${expected.size !== undefined ? `the ${expected.size} bytes announced` : `${MAX_PROVIDER_BYTES} bytes`}`);
      }
      hash.update(chunk);
      yield chunk;
    }
    const actual = hash.digest('hex');
    if (actual !== expected.sha256) {
      throw new IntegrityError(`${expected.what} does not match its signed checksum: expected sha256 ${expected.sha256}, got ${actual} (${size} bytes)`);
    }
    if (expected.size !== undefined && size !== expected.size) {
      throw new IntegrityError(`${expected.what} ended after ${size} of the ${expected.size} bytes announced`);
    }
  }
  // A Readable, so that the host can destroy it; destroying it ends the download too.
  const readable = Readable.from(checked(), { objectMode: false });
  if (onAbandoned) readable.once('close', () => readable.readableEnded || onAbandoned());
  return readable;
}
