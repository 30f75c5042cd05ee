/**
 * Test data that is generated on the fly, so suites can stream objects far larger than they
 * could afford to hold, and hash them as they pass.
 */
import { createHash } from 'node:crypto';

/** Options of {@link pseudoRandomChunks} and {@link pseudoRandomBytes}. */
export interface PseudoRandomOptions {
  /** Same seed, same bytes. Different seeds give unrelated data. Default 1. */
  seed?: number;
  /** Size of every chunk but the last. Default 1 MiB. */
  chunkBytes?: number;
}

/** One mebibyte. */
export const MiB = 1024 * 1024;

/** One gibibyte. */
export const GiB = 1024 * MiB;

const BLOCK_BYTES = MiB;

/** A 1 MiB block of xorshift32 output: the material every chunk of a seed is cut from. */
function seedBlock(seed: number): Buffer {
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  let x = (seed * 0x9e3779b1) >>> 0 || 0x6d2b79f5;
  for (let i = 0; i < BLOCK_BYTES; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    block.writeUInt32LE(x, i);
  }
  return block;
}

/**
 * Chunk `index`: the seed block rotated by an index-dependent offset, stamped with the index,
 * so no two chunks are equal and making one costs a copy, not a PRNG run.
 */
function chunkAt(block: Buffer, index: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let from = (index * 104_729) % BLOCK_BYTES;
  let written = 0;
  while (written < length) {
    written += block.copy(out, written, from, Math.min(BLOCK_BYTES, from + (length - written)));
    from = 0;
  }
  if (length >= 8) out.writeDoubleLE(index, 0);
  return out;
}

/**
 * Yields `totalBytes` of deterministic pseudo-random data as fresh chunks (a consumer may keep
 * them), without ever holding more than one chunk and a 1 MiB seed block.
 */
export async function* pseudoRandomChunks(totalBytes: number, options: PseudoRandomOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  const chunkBytes = options.chunkBytes ?? MiB;
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) throw new RangeError(`totalBytes must be a non-negative integer, got ${totalBytes}`);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const block = seedBlock(options.seed ?? 1);
  for (let index = 0, sent = 0; sent < totalBytes; index++) {
    const length = Math.min(chunkBytes, totalBytes - sent);
    sent += length;
    yield chunkAt(block, index, length);
  }
}

/** The same bytes {@link pseudoRandomChunks} yields, in one buffer: only for small sizes. */
export async function pseudoRandomBytes(totalBytes: number, options: PseudoRandomOptions = {}): Promise<Buffer> {
  return collectBytes(pseudoRandomChunks(totalBytes, options));
}

/** SHA-256 (lowercase hex) and size of data that is consumed as it streams. */
export interface Digest {
  sha256: string;
  size: number;
}

/** Consumes `body` and returns its SHA-256 and size, holding one chunk at a time. */
export async function digestOf(body: AsyncIterable<Uint8Array>): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** SHA-256 (lowercase hex) of bytes in memory. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Consumes `body` into one buffer: only for small objects. */
export async function collectBytes(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Yields `bytes` cut into chunks of the given sizes, cycling through them. The chunks are plain
 * `Uint8Array` views (not `Buffer`s), as a body from `fetch` would be.
 */
export async function* chunked(bytes: Uint8Array, sizes: readonly number[] = [64 * 1024]): AsyncGenerator<Uint8Array, void, undefined> {
  if (sizes.length === 0 || sizes.some((s) => !(s > 0))) throw new RangeError('chunk sizes must be positive');
  for (let at = 0, i = 0; at < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!;
    yield new Uint8Array(bytes.buffer, bytes.byteOffset + at, Math.min(size, bytes.byteLength - at));
    at += size;
  }
}
