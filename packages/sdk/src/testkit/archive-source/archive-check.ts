/**
 * Reads a zip or a gzipped tar far enough to prove it is a whole, valid archive: every header
 * checks out, every zip entry inflates to its CRC, and the file paths are listed. Node built-ins
 * only, and meant for the small archives of a test fixture (it works in memory).
 */
import { Buffer } from 'node:buffer';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';

/** The archive formats the host stores. */
export type ArchiveFormat = 'zip' | 'tar.gz';

/** The format a file name declares, or undefined when it declares neither. */
export function formatOfFilename(filename: string): ArchiveFormat | undefined {
  if (/\.zip$/i.test(filename)) return 'zip';
  if (/\.(tar\.gz|tgz)$/i.test(filename)) return 'tar.gz';
  return undefined;
}

/** The regular files of a valid archive of `format`; throws an Error saying what is wrong otherwise. */
export function archiveFiles(bytes: Buffer, format: ArchiveFormat): string[] {
  return format === 'zip' ? zipFiles(bytes) : tarFiles(gunzip(bytes));
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function zipFiles(zip: Buffer): string[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw new Error('not a zip: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  if (zip.readUInt32LE(eocd) !== EOCD || offset + zip.readUInt32LE(eocd + 12) > eocd) throw new Error('zip: the central directory lies outside the archive');
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== CENTRAL) throw new Error(`zip: central directory entry ${i} is missing`);
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressed = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const next = offset + 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const local = zip.readUInt32LE(offset + 42);
    offset = next;
    if (name.endsWith('/')) continue;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL) throw new Error(`zip: the local header of ${name} is missing`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    if (start + compressed > zip.length) throw new Error(`zip: the data of ${name} is cut short`);
    const data = zip.subarray(start, start + compressed);
    const content = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined;
    if (content === undefined) throw new Error(`zip: ${name} uses compression method ${method}; only stored (0) and deflate (8) are expected`);
    if (content.length !== size || crc32(content) !== crc) throw new Error(`zip: ${name} does not match its size or CRC`);
    files.push(name);
  }
  return files;
}

function gunzip(bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new Error(`not a gzip stream: ${(err as Error).message}`);
  }
}

function tarFiles(tar: Buffer): string[] {
  const files: string[] = [];
  let longName: string | undefined;
  for (let offset = 0; ; ) {
    if (offset + 512 > tar.length) throw new Error('tar: the archive ends without its end-of-archive blocks');
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) return files;
    if (octal(header, 148, 8) !== checksum(header)) throw new Error(`tar: the header at byte ${offset} has a wrong checksum`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    if (data.length !== size) throw new Error('tar: an entry is cut short');
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1] ?? longName;
    else if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (type !== 'g') {
      const prefix = header.toString('utf8', 257, 262) === 'ustar' ? cString(header, 345, 155) : '';
      const name = longName ?? (prefix ? `${prefix}/` : '') + cString(header, 0, 100);
      longName = undefined;
      if (type === '0' || type === '\0') files.push(name);
    }
  }
}

function cString(buffer: Buffer, start: number, length: number): string {
  const field = buffer.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? length : end);
}

function octal(buffer: Buffer, start: number, length: number): number {
  const text = cString(buffer, start, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new Error(`tar: a numeric header field holds ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

/** The header checksum: every byte summed, the checksum field itself counted as spaces. */
function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  return sum;
}
