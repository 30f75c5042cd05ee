/**
 * Reads an object's bytes with a plain `fetch` of the JSON API media URL. The client library's
 * `createReadStream` is not used: when one of its streams is destroyed early (a client that
 * hangs up) it destroys the shared HTTP agent, failing every other request in flight (seen as
 * `socket hang up` and `aborted` in the concurrent-writers conformance case), and each of its
 * downloads warns of a listener leak (googleapis/google-cloud-node#9185).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** What to read. */
export interface DownloadRequest {
  /** The media URL, `…/storage/v1/b/<bucket>/o/<name>?alt=media&generation=<n>`. */
  url: string;
  /** Request headers with credentials, or none for an endpoint that gets no tokens. */
  authHeaders?: () => Promise<Headers>;
  range?: { start: number; end?: number } | undefined;
  signal?: AbortSignal | undefined;
}

/** An HTTP failure of a download, with the status where the error mapping looks for it. */
export class DownloadError extends Error {
  readonly code: number;
  readonly response: { status: number; headers: Headers };

  constructor(status: number, headers: Headers, detail: string) {
    super(`GCS answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'DownloadError';
    this.code = status;
    this.response = { status, headers };
  }
}

/** Attempts before the first byte; after that a failure is the reader's to see. */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 250;

function retryable(err: unknown): boolean {
  if (err instanceof DownloadError) return err.code === 408 || err.code === 429 || err.code >= 500;
  return err instanceof TypeError; // fetch's network failures (connection refused or reset)
}

async function once(request: DownloadRequest): Promise<Readable> {
  const headers = request.authHeaders ? await request.authHeaders() : new Headers();
  headers.set('user-agent', 'opendepot-plugin-gcs');
  const { range } = request;
  if (range !== undefined) headers.set('range', `bytes=${range.start}-${range.end ?? ''}`);
  const response = await fetch(request.url, { headers, ...(request.signal && { signal: request.signal }) });
  const expected = range === undefined ? 200 : 206;
  // A range from 0 to the end may come back whole.
  if (response.status !== expected && !(response.status === 200 && range?.start === 0 && range.end === undefined)) {
    const detail = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    throw new DownloadError(response.status, response.headers, detail);
  }
  if (response.body === null) return Readable.from([]);
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}

/**
 * Opens the object for reading once GCS has answered with its first bytes' headers. Rate
 * limits, server errors and network failures before that are retried twice. The stream fails
 * with an `AbortError` when `signal` aborts.
 */
export async function openDownload(request: DownloadRequest): Promise<Readable> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(request);
    } catch (err) {
      if (request.signal?.aborted || attempt >= ATTEMPTS || !retryable(err)) throw err;
      await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1), undefined, request.signal ? { signal: request.signal } : {});
    }
  }
}
