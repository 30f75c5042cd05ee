/** A download body that checks itself: it fails with IntegrityError unless its bytes hash to the signed checksum. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InputError, IntegrityError } from '@opendepot/sdk';

/** The default ceiling of a provider package (`maxPackageBytes`); real ones are well below 1 GiB. */
export const MAX_PROVIDER_BYTES = 4 * 1024 * 1024 * 1024;

/**
 * Streams `body`, hashing as it goes; after the last byte it errors with IntegrityError when the
 * SHA-256 is not `expectedSha256` (or the size is not `expectedSize`, when known). Defence in
 * depth: the storage backend checks the same checksum before anything becomes visible.
 */
export function verifiedBody(body: AsyncIterable<Uint8Array>, expected: { sha256: string; size?: number; what: string; maxBytes?: number }, onAbandoned?: () => void): Readable {
  const maxBytes = expected.maxBytes ?? MAX_PROVIDER_BYTES;
  async function* checked(): AsyncGenerator<Uint8Array> {
    // Above the limit is the package's size, not a forgery: refused as input, before a byte passes on.
    if (expected.size !== undefined && expected.size > maxBytes) throw tooLarge(expected.what, `${expected.size} bytes announced`, maxBytes);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(expected.what, 'more arrived', maxBytes);
      if (expected.size !== undefined && size > expected.size) throw new IntegrityError(`${expected.what} is larger than the ${expected.size} bytes announced`);
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

function tooLarge(what: string, detail: string, maxBytes: number): InputError {
  return new InputError(`${what} is larger than the ${maxBytes} bytes allowed (${detail})`, { field: 'maxPackageBytes', hint: 'raise maxPackageBytes if this provider is expected to be that large' });
}
