/**
 * A tiny real on-disk StorageBackend for the server's tests: objects are files under a
 * directory, with the SHA-256 recorded at put time in a sidecar file (so overwriting the object
 * on disk behind its back is a tamper the recorded hash does not see).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotFoundError, type GetOptions, type ObjectInfo, type StorageBackend } from '@opendepot/sdk';

export class DiskStorage implements StorageBackend {
  readonly capabilities = { presign: false };
  readonly root: string;
  /** Keys read through `get`, so tests can tell whether storage was touched. */
  readonly reads: string[] = [];
  /** The range of each `get`, in order (undefined: the whole object). */
  readonly ranges: (GetOptions['range'] | undefined)[] = [];
  /** `get` streams not yet closed (each holds a file descriptor). */
  openStreams = 0;
  /** Read buffer size of `get` streams; Node's default (64 KiB) when unset. */
  readonly highWaterMark: number | undefined;

  constructor(root: string, options: { highWaterMark?: number } = {}) {
    this.root = root;
    this.highWaterMark = options.highWaterMark;
  }

  path(key: string): string {
    return join(this.root, key);
  }

  async put(key: string, body: AsyncIterable<Uint8Array>): Promise<ObjectInfo> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    const data = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(data).digest('hex');
    await mkdir(dirname(this.path(key)), { recursive: true });
    await writeFile(this.path(key), data);
    await writeFile(`${this.path(key)}.sha256`, sha256);
    return { key, size: data.length, sha256 };
  }

  async stat(key: string): Promise<ObjectInfo> {
    try {
      const s = await stat(this.path(key));
      const sha256 = await readFile(`${this.path(key)}.sha256`, 'utf8').catch(() => '');
      return { key, size: s.size, sha256, modifiedAt: s.mtime };
    } catch {
      throw new NotFoundError(`no object ${key}`);
    }
  }

  async get(key: string, options: GetOptions = {}) {
    const info = await this.stat(key);
    this.reads.push(key);
    this.ranges.push(options.range);
    const body = createReadStream(this.path(key), {
      ...(options.signal && { signal: options.signal }),
      ...(options.range && { start: options.range.start, ...(options.range.end !== undefined && { end: options.range.end }) }),
      ...(this.highWaterMark !== undefined && { highWaterMark: this.highWaterMark }),
    });
    this.openStreams++;
    body.once('close', () => this.openStreams--);
    return { body, info };
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
    await rm(`${this.path(key)}.sha256`, { force: true });
  }
}
