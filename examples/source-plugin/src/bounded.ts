/** Reading an answer's body with a size limit and the caller's abort. */
import type { IncomingMessage } from 'node:http';
import { InputError } from '@opendepot/sdk';
import { networkError } from './http.ts';

/** Where a body comes from and how large it may be, for its errors. */
export interface BodyLimit {
  what: string;
  url: URL;
  maxBytes: number;
  /** The config field that raises the limit, named in the error. */
  field: string;
}

/** Refuses an answer whose Content-Length already exceeds the limit, before a byte is read. */
export function checkAnnouncedSize(response: IncomingMessage, limit: BodyLimit): number | undefined {
  const length = Number(response.headers['content-length']);
  if (!Number.isSafeInteger(length) || length < 0) return undefined;
  if (length > limit.maxBytes) {
    response.destroy();
    throw tooLarge(limit, `its Content-Length is ${length}`);
  }
  return length;
}

/**
 * The body as chunks; fails with an InputError as soon as more than `maxBytes` arrived (so no
 * caller ever sees a cut archive end normally), and with the signal's reason once aborted.
 */
export async function* boundedBody(response: IncomingMessage, limit: BodyLimit, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let size = 0;
  // The request's own signal option does not reach a response already under way.
  const onAbort = (): void => void response.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit.maxBytes) throw tooLarge(limit, `more than that arrived`);
      yield chunk;
    }
    if (response.readableAborted || !response.complete) throw new Error('the connection closed before the end of the answer');
  } catch (err) {
    throw err instanceof InputError ? err : networkError(err, limit.what, limit.url, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    response.destroy();
  }
}

/** Reads a whole (small) body. */
export async function readBounded(response: IncomingMessage, limit: BodyLimit, signal?: AbortSignal): Promise<Buffer> {
  checkAnnouncedSize(response, limit);
  const chunks: Uint8Array[] = [];
  for await (const chunk of boundedBody(response, limit, signal)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function tooLarge(limit: BodyLimit, detail: string): InputError {
  return new InputError(`${limit.what}: ${limit.url.toString()} is larger than the ${limit.maxBytes} bytes allowed (${detail})`, {
    field: limit.field,
    hint: `raise ${limit.field} if this archive is expected to be that large`,
  });
}
