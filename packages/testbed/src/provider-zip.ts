/**
 * Provider packages for tests: a zip with the executable `terraform-provider-<name>_v<version>`
 * at its root (mode 0755, no directory entries), as protocol.md §3.6 describes. The content is a
 * script that refuses to run (`tofu init` never executes it); it can be padded so the zip has an
 * exact size, for big-artifact tests, streamed so size never costs memory. Or it is a real
 * provider's executable (`executable`), deflated as real releases are.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** What to package. */
export interface ProviderZipOptions {
  /** Provider type, e.g. `hello`. */
  name: string;
  version: string;
  os: string;
  arch: string;
  /** Exact size of the zip in bytes (padding the executable); default: as small as it gets. */
  size?: number;
  /** Package this file (a real provider built for `os`/`arch`) instead of the script; `size` does not apply. */
  executable?: string;
}

/** A fixed time, so the same options always give the same bytes. */
const MTIME = new Date(Date.UTC(2024, 0, 1));
const BLOCK = 64 * 1024;

/** The executable's name inside the zip. */
export function providerExecutableName(options: Pick<ProviderZipOptions, 'name' | 'version' | 'os'>): string {
  return `terraform-provider-${options.name}_v${options.version}${options.os === 'windows' ? '.exe' : ''}`;
}

/** The zip as a Buffer (for small packages; use {@link writeProviderZip} for big ones). */
export async function makeProviderZip(options: ProviderZipOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await providerZipStream(options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes the zip to `path`, streaming; returns its size and SHA-256 (hex). */
export async function writeProviderZip(path: string, options: ProviderZipOptions): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.byteLength;
      done(null, chunk);
    },
  });
  await pipeline(await providerZipStream(options), counting, createWriteStream(path));
  return { size, sha256: hash.digest('hex') };
}

/** The zip as a stream. */
export async function providerZipStream(options: ProviderZipOptions): Promise<Readable> {
  if (options.executable !== undefined) return executableZipOf(options, options.executable);
  const header = scriptOf(options);
  let contentLength = header.length;
  if (options.size !== undefined) {
    const overhead = await zipOverhead(options);
    if (options.size < overhead + header.length) throw new RangeError(`a provider zip of ${options.name} needs at least ${overhead + header.length} bytes`);
    contentLength = options.size - overhead;
  }
  return zipOf(options, header, contentLength);
}

function scriptOf(options: ProviderZipOptions): Buffer {
  return Buffer.from(
    `#!/bin/sh\n# terraform-provider-${options.name} ${options.version} ${options.os}_${options.arch}: a test stand-in, not a real provider\necho 'not a real provider' >&2\nexit 1\n`,
  );
}

/** Stored (not deflated), so that the zip's size is the content's plus a fixed overhead. */
function zipOf(options: ProviderZipOptions, header: Buffer, contentLength: number): Readable {
  const zip = new yazl.ZipFile();
  zip.addReadStreamLazy(providerExecutableName(options), { mtime: MTIME, mode: 0o100755, compress: false, size: contentLength }, (cb) => cb(null, content(header, contentLength)));
  zip.end();
  return zip.outputStream as unknown as Readable;
}

/** A real executable, deflated (its mode and time fixed, so the same file always gives the same bytes). */
function executableZipOf(options: ProviderZipOptions, executable: string): Readable {
  const zip = new yazl.ZipFile();
  zip.addFile(executable, providerExecutableName(options), { mtime: MTIME, mode: 0o100755, compress: true });
  zip.end();
  return zip.outputStream as unknown as Readable;
}

/** Header then padding, `length` bytes in all; the padding differs per package (it derives from the header). */
function content(header: Buffer, length: number): Readable {
  const block = Buffer.alloc(BLOCK);
  let seed = createHash('sha256').update(header).digest();
  for (let offset = 0; offset < BLOCK; offset += seed.length) {
    seed = createHash('sha256').update(seed).digest();
    seed.copy(block, offset);
  }
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= length) {
        this.push(null);
        return;
      }
      const chunk = sent === 0 && header.length > 0 ? header.subarray(0, length) : block.subarray(0, Math.min(BLOCK, length - sent));
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

/** Bytes of the zip around the content, measured once per entry name (constant below the zip64 sizes). */
const overheads = new Map<string, Promise<number>>();
function zipOverhead(options: ProviderZipOptions): Promise<number> {
  const name = providerExecutableName(options);
  let overhead = overheads.get(name);
  if (!overhead) {
    overhead = (async () => {
      let size = 0;
      for await (const chunk of zipOf(options, Buffer.alloc(0), 0)) size += (chunk as Buffer).length;
      return size;
    })();
    overheads.set(name, overhead);
  }
  return overhead;
}
