/** The filesystem StorageBackend. The file layout and why it is atomic: see layout.ts. */
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, realpath, rename, rm, stat as statPath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  ConflictError,
  InputError,
  NotFoundError,
  UnavailableError,
  type GetOptions,
  type Logger,
  type ObjectInfo,
  type PutOptions,
  type RequestOptions,
  type StorageBackend,
  type StorageCapabilities,
  type SweepOptions,
  type SweepResult,
} from '@opendepot/sdk';
import { checkPutOptions, checkRange, untilAborted, verifySha256 } from '@opendepot/sdk';
import type { FilesystemStorageConfig } from './config.ts';
import { errnoOf, isFull, isMissing } from './fs-errors.ts';
import { locate, type KeyLocation } from './keys.ts';
import { blobName, newId, pointerName, tmpName } from './layout.ts';
import { parsePointer, readPointer, writePointer, type Pointer } from './pointer.ts';
import { sweepLeftovers, sweepTree } from './sweep.ts';
import { writeNewFile } from './write.ts';

/**
 * Read buffer of a get. Each chunk is garbage once written to a socket: 64 KiB keeps a server
 * streaming many downloads at once inside its memory budget at the same throughput (server README).
 */
const READ_CHUNK_BYTES = 64 * 1024;
/** How often a get follows a pointer whose blob vanished (a concurrent put replaced it). */
const MAX_POINTER_HOPS = 10;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** Options of {@link FilesystemStorage} beyond its config. */
export interface FilesystemStorageOptions {
  /** Where best-effort clean-up failures are reported. Default: nowhere. */
  logger?: Logger;
  /** Milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Objects as files under one directory. Puts are atomic and hashed while streaming; stat
 * reads only the checksum metadata; no presigned URLs (the server streams the files).
 */
export class FilesystemStorage implements StorageBackend {
  readonly capabilities: StorageCapabilities = { presign: false };
  /** The storage directory, absolute and normalised. */
  readonly root: string;
  /** The directory {@link root} must be inside (config `root`, default `path`), absolute and normalised. */
  readonly boundary: string;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(config: FilesystemStorageConfig, options: FilesystemStorageOptions = {}) {
    if (typeof config?.path !== 'string' || !isAbsolute(config.path)) {
      throw new InputError(`the storage path must be an absolute directory, got ${JSON.stringify(config?.path)}`, { field: 'path' });
    }
    this.root = resolve(config.path);
    if (config.root !== undefined && (typeof config.root !== 'string' || !isAbsolute(config.root))) {
      throw new InputError(`the storage root must be an absolute directory, got ${JSON.stringify(config.root)}`, { field: 'root' });
    }
    this.boundary = resolve(config.root ?? config.path);
    if (!inside(this.boundary, this.root)) throw outsideRoot(this.root, this.boundary);
    this.#logger = options.logger ?? silent;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Creates the storage directory if needed and checks it is a writable directory, or a readable
   * one on a read-only mount: the server mounts the shared volume read-only and only reads.
   */
  async init(): Promise<this> {
    // Symlinks are followed before anything is created, and again after: nothing is made or
    // used outside the root, wherever a link on the way points.
    await this.#checkInsideRoot();
    await mkdir(this.root, { recursive: true }).catch((err: unknown) => {
      if (errnoOf(err) !== 'EROFS') throw err;
    });
    await this.#checkInsideRoot();
    if (!(await statPath(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
    try {
      await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      if (errnoOf(err) !== 'EROFS') throw err;
      await access(this.root, constants.R_OK | constants.X_OK);
      this.readOnly = true;
      this.#logger.info('filesystem storage is on a read-only mount: it serves stored objects, writes fail', { path: this.root });
    }
    return this;
  }

  async #checkInsideRoot(): Promise<void> {
    const [root, path] = await Promise.all([realPathSoFar(this.boundary), realPathSoFar(this.root)]);
    if (!inside(root, path)) throw outsideRoot(this.root, this.boundary, path);
  }

  /** True when the directory is on a read-only mount (set by {@link init}). */
  readOnly = false;

  /** Removes temporary files and unnamed blobs that interrupted writes left anywhere under the root. */
  async sweepTemporaries(options: SweepOptions): Promise<SweepResult> {
    if (this.readOnly) return { removed: [] };
    const removed = await sweepTree(this.root, this.#now(), options.olderThanMs, options.signal);
    if (removed.length > 0) this.#logger.info('removed leftovers of interrupted writes', { path: this.root, removed });
    return { removed };
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    const where = this.#locate(key);
    const { signal } = options;
    const { sha256: expected } = checkPutOptions(options);
    signal?.throwIfAborted();
    await this.#makeDir(where, key);

    // 1. The content goes to a temporary file, then to a blob no pointer names yet.
    const id = newId();
    const tmp = join(where.dir, tmpName(where.name, id));
    const blob = blobName(where.name, id);
    let written: { sha256: string; size: number };
    try {
      // Raced against the signal too, so an abort does not wait for an fsync to finish.
      const writing = writeNewFile(tmp, body, signal);
      written = await untilAborted(writing, signal).catch((err: unknown) => {
        void writing.catch(() => undefined).finally(() => rm(tmp, { force: true }));
        throw err;
      });
      verifySha256(key, expected, written.sha256);
      signal?.throwIfAborted();
      await rename(tmp, join(where.dir, blob));
    } catch (err) {
      await rm(tmp, { force: true });
      throw this.#mapWriteError(err, key);
    }

    // 2. The pointer names the blob: this rename is the moment the object becomes visible.
    const pointer: Pointer = { ...written, writtenAt: new Date(this.#now()).toISOString(), blob };
    let previous: Pointer | undefined;
    try {
      await syncDir(where.dir); // the blob's name is durable before any pointer names it
      signal?.throwIfAborted(); // the last moment an abort can still cancel the put
      previous = await readPointer(where.dir, where.name).catch(() => undefined);
      await writePointer(where.dir, where.name, pointer);
    } catch (err) {
      await rm(join(where.dir, blob), { force: true });
      throw this.#mapWriteError(err, key);
    }
    await syncDir(where.dir).catch((err: unknown) => this.#logger.warn('could not flush the storage directory', { dir: where.dir, err: String(err) }));

    // 3. Retire blobs no pointer names any more; failures only leave garbage behind.
    await this.#retire(where, blob, previous).catch((err: unknown) => this.#logger.warn('could not remove superseded storage files', { key, err: String(err) }));
    return infoOf(key, pointer);
  }

  async get(key: string, options: GetOptions = {}): Promise<{ body: NodeJS.ReadableStream & AsyncIterable<Uint8Array>; info: ObjectInfo }> {
    const where = this.#locate(key);
    const { start, end } = checkRange(options.range) ?? {};
    const { signal } = options;
    signal?.throwIfAborted();
    let vanished: string | undefined;
    for (let hop = 0; ; hop++) {
      const pointer = await readPointer(where.dir, where.name);
      if (pointer === undefined) throw new NotFoundError(`no object stored under ${key}`);
      let handle;
      try {
        handle = await open(join(where.dir, pointer.blob), 'r');
      } catch (err) {
        if (!isMissing(err)) throw err;
        // A put replaced the object between reading the pointer and opening its blob:
        // follow the new pointer. The same blob missing twice means the pointer dangles.
        if (pointer.blob === vanished) throw new NotFoundError(`the metadata of ${key} names the missing file ${pointer.blob}`, { cause: err });
        if (hop >= MAX_POINTER_HOPS) throw new UnavailableError(`${key} kept being replaced while it was being opened`, { cause: err });
        vanished = pointer.blob;
        continue;
      }
      if (signal?.aborted) {
        await handle.close();
        signal.throwIfAborted();
      }
      // An open blob stays readable even if a concurrent put or delete removes its name.
      const body = handle.createReadStream({ start, end, signal, highWaterMark: READ_CHUNK_BYTES });
      return { body, info: infoOf(key, pointer) };
    }
  }

  async stat(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const where = this.#locate(key);
    options.signal?.throwIfAborted();
    const pointer = await readPointer(where.dir, where.name);
    if (pointer === undefined) throw new NotFoundError(`no object stored under ${key}`);
    return infoOf(key, pointer);
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    const where = this.#locate(key);
    options.signal?.throwIfAborted();
    // Taking the pointer away by renaming it removes the object atomically, and tells exactly
    // which blob it named, even when a put races this delete.
    const taken = join(where.dir, tmpName(where.name, newId()));
    try {
      await rename(join(where.dir, pointerName(where.name)), taken);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    try {
      const pointer = parsePointer(await readFile(taken, 'utf8'), where.name, taken);
      await rm(join(where.dir, pointer.blob), { force: true });
    } catch (err) {
      this.#logger.warn('deleted an object whose metadata could not be read; its content is left for the sweep', { key, err: String(err) });
    } finally {
      await rm(taken, { force: true });
    }
  }

  #locate(key: string): KeyLocation {
    return locate(this.root, key);
  }

  async #makeDir(where: KeyLocation, key: string): Promise<void> {
    try {
      await mkdir(where.dir, { recursive: true });
    } catch (err) {
      throw this.#mapWriteError(err, key);
    }
  }

  /** Removes the blob the pointer named before, and this put's own blob if another put already replaced it. */
  async #retire(where: KeyLocation, blob: string, previous: Pointer | undefined): Promise<void> {
    if (previous !== undefined && previous.blob !== blob) await rm(join(where.dir, previous.blob), { force: true });
    const current = await readPointer(where.dir, where.name);
    // No pointer ever names a blob again once it was replaced, so this cannot remove live content.
    if (current?.blob !== blob) await rm(join(where.dir, blob), { force: true });
    await sweepLeftovers(where.dir, where.name, current?.blob, this.#now());
  }

  #mapWriteError(err: unknown, key: string): unknown {
    if (isFull(err)) return new UnavailableError(`no space left to store ${key} under ${this.root}`, { cause: err });
    const code = errnoOf(err);
    if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
      return new ConflictError(`cannot store ${key}: a file of another key is in the way`, { cause: err });
    }
    if (code === 'ENAMETOOLONG') return new InputError(`the key ${key} is too long for the file system`, { field: 'key', cause: err });
    return err;
  }
}

function infoOf(key: string, pointer: Pointer): ObjectInfo {
  return { key, size: pointer.size, sha256: pointer.sha256, modifiedAt: new Date(pointer.writtenAt) };
}

/** Flushes a directory's entries (new and renamed names) to disk. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether `path` is `root` or below it (both absolute and normalised). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of the deepest existing ancestor of `path`, with the rest of `path` appended. */
async function realPathSoFar(path: string): Promise<string> {
  const rest: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch (err) {
      if (!isMissing(err) || dirname(at) === at) throw err;
      rest.push(basename(at));
      at = dirname(at);
    }
  }
}

function outsideRoot(path: string, root: string, real?: string): InputError {
  return new InputError(`the storage path ${path}${real !== undefined && real !== path ? ` (really ${real})` : ''} is outside the storage root ${root}`, {
    field: 'path',
    hint: "Use a path inside the root the storage profile sets (storage.profiles.<name>.filesystem.root in the Helm values, default: the profile's path).",
  });
}
