/**
 * The file tree read from an upstream archive, kept on disk: contents go to one spool file as they
 * stream (constant memory), and the entries are sorted only once everything has been read, so the
 * output does not depend on the upstream's entry order.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { InputError } from '@opendepot/sdk';
import { printable, resolveLinkTarget } from './entry-path.ts';
import { formatBytes, type ArchiveLimits } from './limits.ts';

/** A regular file of the tree; its bytes are `size` bytes at `offset` in the spool file. */
export interface TreeFile {
  kind: 'file';
  path: string;
  executable: boolean;
  offset: number;
  size: number;
}

/** A directory of the tree. */
export interface TreeDirectory {
  kind: 'directory';
  path: string;
}

/** An entry of the finished, sorted tree. */
export type TreeEntry = TreeFile | TreeDirectory;

interface PendingLink {
  kind: 'symlink' | 'hardlink';
  path: string;
  /** Symlink: the raw target, relative to the link. Hardlink: the tree path of the target. */
  target: string;
}

// Symlinks to symlinks are followed this far, which also ends any cycle.
const MAX_LINK_HOPS = 16;
const SPOOL_READ_CHUNK = 64 * 1024;

/** Collects the entries of one archive, enforcing the limits as bytes arrive. */
export class SpooledTree {
  readonly #spool: FileHandle;
  readonly #limits: ArchiveLimits;
  readonly #entries = new Map<string, TreeEntry>();
  readonly #links: PendingLink[] = [];
  /** Paths of #links, so the duplicate check stays linear (a scan of #links was quadratic). */
  readonly #linkPaths = new Set<string>();
  readonly #warnings: string[] = [];
  #spoolSize = 0;
  #totalBytes = 0;
  #entryCount = 0;

  private constructor(spool: FileHandle, limits: ArchiveLimits) {
    this.#spool = spool;
    this.#limits = limits;
  }

  /** Creates the tree with its spool file at `spoolPath` (which must not exist). */
  static async create(spoolPath: string, limits: ArchiveLimits): Promise<SpooledTree> {
    return new SpooledTree(await open(spoolPath, 'wx+', 0o600), limits);
  }

  /** Things that were left out (links that point outside, devices), for a log line. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** Notes something that was left out of the tree. */
  warn(message: string): void {
    if (this.#warnings.length < 100) this.#warnings.push(message);
  }

  /** Adds a regular file, streaming `data` into the spool and counting every byte. */
  async addFile(path: string, mode: number, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.#claim(path);
    const offset = this.#spoolSize;
    let size = 0;
    for await (const chunk of data) {
      size += chunk.byteLength;
      if (size > this.#limits.maxEntryBytes) {
        throw new InputError(`archive entry "${printable(path)}" is larger than the limit of ${formatBytes(this.#limits.maxEntryBytes)} per file`);
      }
      this.#addTotal(chunk.byteLength);
      await this.#spool.write(chunk, 0, chunk.byteLength, this.#spoolSize);
      this.#spoolSize += chunk.byteLength;
    }
    this.#entries.set(path, { kind: 'file', path, executable: (mode & 0o111) !== 0, offset, size });
  }

  /** Adds a directory; adding the same directory twice is harmless. */
  addDirectory(path: string): void {
    const existing = this.#entries.get(path);
    if (existing?.kind === 'directory') return;
    this.#claim(path);
    this.#entries.set(path, { kind: 'directory', path });
  }

  /**
   * Adds a link. It becomes a copy of its target file when the tree is finished (so the output
   * holds no links at all); a link to a directory, to nothing, or outside the tree is left out.
   */
  addLink(kind: 'symlink' | 'hardlink', path: string, target: string): void {
    this.#claim(path);
    this.#links.push({ kind, path, target });
    this.#linkPaths.add(path);
  }

  /** Resolves the links and returns every entry, parents included, in a fixed order. */
  finish(): TreeEntry[] {
    this.#materialiseLinks();
    for (const entry of [...this.#entries.values()]) {
      const parts = entry.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        const existing = this.#entries.get(parent);
        if (existing?.kind === 'file') {
          throw new InputError(`archive entry "${printable(entry.path)}" is inside "${printable(parent)}", which is a file`);
        }
        if (!existing) this.#entries.set(parent, { kind: 'directory', path: parent });
      }
    }
    // Directories sort as "path/" so that each comes right before its contents.
    const key = (e: TreeEntry) => (e.kind === 'directory' ? `${e.path}/` : e.path);
    return [...this.#entries.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /**
   * Streams a file's bytes back from the spool. Positional reads, not `FileHandle.createReadStream`:
   * each of those leaves a listener on the shared handle, which kept every stream of a
   * 20,000-link archive alive.
   */
  read(file: TreeFile): Readable {
    const spool = this.#spool;
    return Readable.from(
      (async function* () {
        const end = file.offset + file.size;
        for (let position = file.offset; position < end; ) {
          const length = Math.min(SPOOL_READ_CHUNK, end - position);
          const { bytesRead, buffer } = await spool.read(Buffer.allocUnsafe(length), 0, length, position);
          if (bytesRead === 0) throw new Error(`the spool file ended before ${end} bytes`);
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      })(),
      { objectMode: false },
    );
  }

  /** Closes the spool file (the caller removes its directory). */
  async close(): Promise<void> {
    await this.#spool.close();
  }

  #claim(path: string): void {
    this.#entryCount++;
    if (this.#entryCount > this.#limits.maxEntries) {
      throw new InputError(`the archive has more than ${this.#limits.maxEntries} entries, the limit`);
    }
    if (this.#entries.has(path) || this.#linkPaths.has(path)) {
      throw new InputError(`archive entry "${printable(path)}" appears more than once`);
    }
  }

  #addTotal(bytes: number): void {
    this.#totalBytes += bytes;
    if (this.#totalBytes > this.#limits.maxTotalBytes) {
      throw new InputError(`the archive unpacks to more than ${formatBytes(this.#limits.maxTotalBytes)}, the limit`);
    }
  }

  #materialiseLinks(): void {
    const links = new Map(this.#links.map((l) => [l.path, l]));
    for (const link of this.#links) {
      const target = this.#resolve(link, links);
      if (typeof target === 'string') {
        this.warn(`left out ${link.kind} "${printable(link.path)}": ${target}`);
        continue;
      }
      this.#addTotal(target.size);
      this.#entries.set(link.path, { ...target, path: link.path });
    }
  }

  /** The file a link ends at, or why it is left out. */
  #resolve(link: PendingLink, links: Map<string, PendingLink>): TreeFile | string {
    let current = link;
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const path = current.kind === 'hardlink' ? current.target : resolveLinkTarget(current.path, current.target);
      if (path === undefined) return `it points outside the module ("${printable(current.target)}")`;
      const entry = this.#entries.get(path);
      if (entry?.kind === 'file') return entry;
      if (entry?.kind === 'directory') return 'it points to a directory';
      const next = links.get(path);
      if (!next) return `its target "${printable(current.target)}" is not in the archive`;
      current = next;
    }
    return `it is part of a chain of more than ${MAX_LINK_HOPS} links`;
  }
}
