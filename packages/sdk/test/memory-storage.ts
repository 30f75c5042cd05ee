/**
 * An in-memory StorageBackend for testing the testkit: correct by default, or with one
 * deliberate flaw, so each conformance case can be shown to pass and to fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addAbortSignal, Readable } from 'node:stream';
import { InputError, NotFoundError } from '../src/errors.ts';
import { checkKey, checkPutOptions, checkRange, verifySha256 } from '../src/storage-guard.ts';
import type { GetOptions, ObjectInfo, PresignedUrl, PresignOptions, PutOptions, StorageBackend } from '../src/storage.ts';

/** The defects the conformance suite must catch. */
export type Flaw =
  | 'wrong-checksum' // put reports and records a checksum of other bytes
  | 'visible-while-writing' // put exposes the object while it streams in
  | 'delete-then-write' // put removes the old object before writing the new one
  | 'plain-errors' // a missing key is a plain Error, not not_found
  | 'strict-delete' // deleting a missing key fails
  | 'lax-keys' // only the old rules: empty, absolute, '..'
  | 'ignores-sha256' // PutOptions.sha256 is not checked
  | 'lax-sha256' // a malformed PutOptions.sha256 or size is ignored
  | 'mismatch-as-input' // a checksum mismatch is an InputError
  | 'lax-ranges' // a malformed range is read as far as it goes
  | 'ignores-put-abort' // put consumes the whole body whatever the signal says
  | 'ignores-get-abort' // get streams on after an abort
  | 'ignores-range' // get always returns the whole object
  | 'stat-reads' // stat hashes the content instead of reading recorded metadata
  | 'bad-presign'; // presigned URLs serve other bytes

interface Stored {
  chunks: Buffer[];
  info: ObjectInfo;
}

function laxKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').includes('..')) throw new InputError(`invalid key ${JSON.stringify(key)}`, { field: 'key' });
}

/** Next item of `iterator`, or the signal's reason as soon as it aborts. */
async function nextOrAbort<T>(iterator: AsyncIterator<T>, signal: AbortSignal | undefined): Promise<IteratorResult<T>> {
  if (signal === undefined) return iterator.next();
  signal.throwIfAborted();
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([iterator.next(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export class MemoryStorage implements StorageBackend {
  readonly capabilities: { presign: boolean };
  readonly #objects = new Map<string, Stored>();
  readonly #flaw: Flaw | undefined;
  #server: Promise<Server> | undefined;
  readonly #links = new Map<string, string>();

  constructor(options: { flaw?: Flaw; presign?: boolean } = {}) {
    this.#flaw = options.flaw;
    this.capabilities = { presign: options.presign ?? false };
  }

  #key(key: string): void {
    if (this.#flaw === 'lax-keys') laxKey(key);
    else checkKey(key);
  }

  #missing(key: string): Error {
    return this.#flaw === 'plain-errors' ? new Error(`no such key ${key}`) : new NotFoundError(`no such key ${key}`);
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    this.#key(key);
    const expected = this.#flaw === 'lax-sha256' ? undefined : checkPutOptions(options).sha256;
    const signal = this.#flaw === 'ignores-put-abort' ? undefined : options.signal;
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    const info: ObjectInfo = { key, size: 0, sha256: '', modifiedAt: new Date() };
    if (this.#flaw === 'delete-then-write') this.#objects.delete(key);
    if (this.#flaw === 'visible-while-writing') this.#objects.set(key, { chunks, info });
    const iterator = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await nextOrAbort(iterator, signal);
        if (step.done) break;
        chunks.push(Buffer.from(step.value));
        hash.update(step.value);
        info.size += step.value.byteLength;
      }
    } catch (err) {
      void iterator.return?.()?.catch(() => undefined);
      throw err;
    }
    info.sha256 = hash.digest('hex');
    if (this.#flaw === 'mismatch-as-input' && expected !== undefined && expected !== info.sha256) throw new InputError(`content hashes to ${info.sha256}, not the expected ${expected}`);
    if (this.#flaw !== 'ignores-sha256') verifySha256(key, expected, info.sha256);
    if (this.#flaw === 'wrong-checksum')
      info.sha256 = createHash('sha256')
        .update(chunks[0] ?? Buffer.alloc(1))
        .update('!')
        .digest('hex');
    this.#objects.set(key, { chunks, info });
    return { ...info };
  }

  async get(key: string, options: GetOptions = {}): Promise<{ body: Readable; info: ObjectInfo }> {
    this.#key(key);
    const range = this.#flaw === 'ignores-range' ? undefined : this.#flaw === 'lax-ranges' ? options.range : checkRange(options.range);
    const stored = this.#objects.get(key);
    if (stored === undefined) throw this.#missing(key);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? Infinity, stored.info.size - 1);
    async function* slices(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const chunk of stored!.chunks) {
        const from = Math.max(start, offset);
        const to = Math.min(end + 1, offset + chunk.byteLength);
        if (from < to) yield chunk.subarray(from - offset, to - offset);
        offset += chunk.byteLength;
        await new Promise<void>((resolve) => setImmediate(resolve)); // like I/O: let other work run
      }
    }
    const body = Readable.from(slices(), { objectMode: false });
    if (options.signal !== undefined && this.#flaw !== 'ignores-get-abort') addAbortSignal(options.signal, body);
    return { body, info: { ...stored.info } };
  }

  async stat(key: string): Promise<ObjectInfo> {
    this.#key(key);
    const stored = this.#objects.get(key);
    if (stored === undefined) throw this.#missing(key);
    if (this.#flaw === 'stat-reads') {
      const hash = createHash('sha256');
      for (const chunk of stored.chunks) hash.update(chunk);
      return { ...stored.info, sha256: hash.digest('hex') };
    }
    return { ...stored.info };
  }

  async delete(key: string): Promise<void> {
    this.#key(key);
    if (!this.#objects.delete(key) && this.#flaw === 'strict-delete') throw new NotFoundError(`no such key ${key}`);
  }

  async presign(key: string, options: PresignOptions): Promise<PresignedUrl> {
    this.#key(key);
    if (!this.#objects.has(key)) throw this.#missing(key);
    const server = await (this.#server ??= this.#serve());
    const token = randomBytes(8).toString('hex');
    this.#links.set(token, key);
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/${token}`, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000) };
  }

  #serve(): Promise<Server> {
    const server = createServer((req, res) => {
      const key = this.#links.get((req.url ?? '').slice(1));
      const stored = key === undefined ? undefined : this.#objects.get(key);
      if (stored === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunks = this.#flaw === 'bad-presign' ? stored.chunks.slice(1) : stored.chunks;
      for (const chunk of chunks) res.write(chunk);
      res.end();
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  async close(): Promise<void> {
    const server = await this.#server;
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}
