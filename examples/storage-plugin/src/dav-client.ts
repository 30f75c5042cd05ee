/**
 * The few WebDAV requests the storage needs, over Node's built-in `http`/`https`. Every method
 * answers with what the status means for the caller and throws the contract's errors for the
 * rest.
 *
 * Why not `fetch`: the `fetch` of Node 24 does not hold back a streamed request body while the
 * connection is congested, so a large upload ends up in memory (measured: a 512 MiB PUT grew the
 * process by 520 MiB). `http.request` fed through `pipeline` stays flat.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { requestError, RequestTimeout, statusError, type Answer } from './errors.ts';
import { parseMultistatus, type ListedResource } from './multistatus.ts';

/** Options of {@link DavClient}. */
export interface DavClientOptions {
  /** The base collection; the client adds a trailing slash if it is missing. */
  url: string;
  /** Value of the `Authorization` header, if any. */
  authorization?: string;
  /** Time limit of metadata requests and of the wait for a download's headers. */
  timeoutMs: number;
}

/** Where on the server: path segments under the base collection (unescaped). */
export type DavPath = readonly string[];

/** An answer whose (small) body was read whole. */
interface ReadAnswer extends Answer {
  text: string;
}

const PROPFIND_BODY = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>';
const USER_AGENT = 'opendepot-storage-webdav/0.1';
/** A metadata answer larger than this is not one this plugin asked for. */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/** A WebDAV client bound to one base collection, with its own pool of kept-alive connections. */
export class DavClient {
  /** The base collection's URL, with a trailing slash. */
  readonly base: URL;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  constructor(options: DavClientOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    this.#authorization = options.authorization;
    this.#timeoutMs = options.timeoutMs;
    const https = this.base.protocol === 'https:';
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /** The URL of `path` (a collection's URL ends with a slash). */
  url(path: DavPath, collection = false): string {
    const tail = path.map(encodeURIComponent).join('/');
    return new URL(tail + (collection && tail !== '' ? '/' : ''), this.base).href;
  }

  /** The names of what a collection holds, or `undefined` when it does not exist. */
  async list(path: DavPath, signal?: AbortSignal): Promise<string[] | undefined> {
    const listed = await this.#propfind(path, 1, signal);
    if (listed === undefined) return undefined;
    const self = trimSlash(new URL(this.url(path, true)).pathname);
    return listed.filter((r) => trimSlash(r.path) !== self).map((r) => r.name);
  }

  /** Whether `path` exists, and is a collection. */
  async probe(path: DavPath, signal?: AbortSignal): Promise<'collection' | 'file' | 'missing'> {
    const listed = await this.#propfind(path, 0, signal);
    if (listed === undefined) return 'missing';
    return listed[0]?.isCollection === true ? 'collection' : 'file';
  }

  /** Creates a collection. */
  async mkcol(path: DavPath, signal?: AbortSignal): Promise<'created' | 'exists' | 'parent-missing'> {
    const answer = await this.#exchange('MKCOL', path, true, {}, undefined, signal);
    if (answer.status === 201) return 'created';
    if (answer.status === 405) return 'exists'; // RFC 4918 9.3.1: MKCOL on an existing resource
    if (answer.status === 409) return 'parent-missing';
    throw statusError(answer, `MKCOL ${this.#show(path)}`);
  }

  /** Renames without ever replacing what is at `to`. */
  async move(from: DavPath, to: DavPath, collection: boolean, signal?: AbortSignal): Promise<'moved' | 'exists' | 'source-missing' | 'parent-missing'> {
    const answer = await this.#exchange('MOVE', from, collection, { Destination: this.url(to, collection), Overwrite: 'F' }, undefined, signal);
    if (answer.status === 201 || answer.status === 204) return 'moved';
    if (answer.status === 412) return 'exists';
    if (answer.status === 404) return 'source-missing';
    if (answer.status === 409) return 'parent-missing';
    throw statusError(answer, `MOVE ${this.#show(from)}`);
  }

  /** Deletes a resource (a collection with everything in it). */
  async delete(path: DavPath, collection: boolean, signal?: AbortSignal): Promise<'deleted' | 'missing'> {
    const answer = await this.#exchange('DELETE', path, collection, {}, undefined, signal);
    if (answer.status === 200 || answer.status === 202 || answer.status === 204) return 'deleted';
    if (answer.status === 404 || answer.status === 409) return 'missing';
    throw statusError(answer, `DELETE ${this.#show(path)}`);
  }

  /**
   * Uploads `body` to a file. No time limit (a big upload takes as long as it takes); the signal
   * aborts it. `contentLength`, when known, is sent so servers need not buffer. An error thrown
   * by `body` itself rejects the upload with that error.
   */
  async put(path: DavPath, body: AsyncIterable<Uint8Array>, options: { contentLength?: number; signal?: AbortSignal } = {}): Promise<void> {
    const what = `PUT ${this.#show(path)}`;
    const headers: OutgoingHttpHeaders = { 'Content-Type': 'application/octet-stream' };
    if (options.contentLength !== undefined) headers['Content-Length'] = options.contentLength;
    let answer: ReadAnswer;
    try {
      const response = await this.#send('PUT', this.url(path), headers, Readable.from(body, { objectMode: false }), options.signal, undefined);
      answer = await readAnswer(response);
    } catch (err) {
      throw requestError(err, what, options.signal);
    }
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 204) throw statusError(answer, what);
  }

  /**
   * Starts a download: resolves with the response once its headers arrived (within the time
   * limit), or `undefined` when the file does not exist. The signal also aborts the body.
   */
  async get(path: DavPath, options: { range?: string; signal?: AbortSignal } = {}): Promise<IncomingMessage | undefined> {
    const what = `GET ${this.#show(path)}`;
    const headers: OutgoingHttpHeaders = options.range === undefined ? {} : { Range: options.range };
    let response: IncomingMessage;
    try {
      response = await this.#send('GET', this.url(path), headers, undefined, options.signal, this.#timeoutMs);
    } catch (err) {
      throw requestError(err, what, options.signal);
    }
    const status = response.statusCode ?? 0;
    if (status === 200 || status === 206) return response;
    const answer = await readAnswer(response).catch((err: unknown) => {
      throw requestError(err, what, options.signal);
    });
    if (status === 404 || status === 409 || status === 410) return undefined;
    throw statusError(answer, what);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #propfind(path: DavPath, depth: 0 | 1, signal: AbortSignal | undefined): Promise<ListedResource[] | undefined> {
    const headers = { Depth: String(depth), 'Content-Type': 'application/xml; charset=utf-8' };
    const answer = await this.#exchange('PROPFIND', path, true, headers, PROPFIND_BODY, signal);
    // 409: a file where a collection would be; for a reader, the same as nothing there.
    if (answer.status === 404 || answer.status === 409 || answer.status === 410) return undefined;
    if (answer.status !== 207) throw statusError(answer, `PROPFIND ${this.#show(path)}`);
    return parseMultistatus(answer.text, this.url(path, true));
  }

  /** A request with a small body (or none) whose answer is read whole, all within the time limit. */
  async #exchange(method: string, path: DavPath, collection: boolean, headers: OutgoingHttpHeaders, body: string | undefined, signal: AbortSignal | undefined): Promise<ReadAnswer> {
    const what = `${method} ${this.#show(path)}`;
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(new RequestTimeout(this.#timeoutMs)), this.#timeoutMs);
    const both = signal === undefined ? limit.signal : AbortSignal.any([signal, limit.signal]);
    try {
      const response = await this.#send(method, this.url(path, collection), headers, body, both, undefined);
      return await readAnswer(response);
    } catch (err) {
      throw requestError(limit.signal.aborted && !signal?.aborted ? limit.signal.reason : err, what, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a request and resolves with the response as soon as its headers arrive. `headersTimeoutMs`
   * limits the wait for them; `signal` aborts the request and the response's body.
   */
  #send(
    method: string,
    url: string,
    headers: OutgoingHttpHeaders,
    body: string | Readable | undefined,
    signal: AbortSignal | undefined,
    headersTimeoutMs: number | undefined,
  ): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      signal?.throwIfAborted();
      const all: OutgoingHttpHeaders = { 'User-Agent': USER_AGENT, ...headers };
      if (this.#authorization !== undefined) all.Authorization = this.#authorization;
      if (typeof body === 'string') all['Content-Length'] = Buffer.byteLength(body);
      const request = this.#request(url, { method, headers: all, agent: this.#agent, ...(signal === undefined ? {} : { signal }) });
      const timer = headersTimeoutMs === undefined ? undefined : setTimeout(() => request.destroy(new RequestTimeout(headersTimeoutMs)), headersTimeoutMs);
      request.once('response', (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      request.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (body instanceof Readable) {
        // pipeline destroys the request with the body's error, which rejects above.
        pipeline(body, request).catch(() => undefined);
      } else {
        request.end(body);
      }
    });
  }

  /** A path for messages: under the base URL's path, never with credentials. */
  #show(path: DavPath): string {
    return `${this.base.pathname}${path.join('/')}`;
  }
}

/** Reads a small answer whole (refusing a huge one). */
async function readAnswer(response: IncomingMessage): Promise<ReadAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_METADATA_BYTES) {
      response.destroy();
      throw new Error(`the answer is larger than ${MAX_METADATA_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const retry = response.headers['retry-after'];
  return { status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', retryAfter: retry, text: Buffer.concat(chunks).toString('utf8') };
}

function trimSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
