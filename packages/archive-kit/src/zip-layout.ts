/**
 * Checks of a zip's central directory made before any entry data is read: too many entries,
 * entries whose data overlap (the "many entries, one payload" bomb: 65,535 records all pointing
 * at one 1 GiB deflated entry), and too many declared uncompressed bytes. The bytes that really
 * inflate are counted separately by {@link countInflated}, in case the declared sizes lie.
 */
import { Buffer } from 'node:buffer';
import type yauzl from 'yauzl';
import { InputError } from '@opendepot/sdk';

/** Limits of one zip, and how to word their refusal. */
export interface ZipLayoutLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  /** Makes the error for an exceeded limit (so callers can name their own configuration key). */
  refuse(limit: 'maxEntries' | 'maxUncompressedBytes', message: string): Error;
}

// A local file header is at least this long, so an entry's data ends at least this far past its offset.
const LOCAL_HEADER_MIN = 30;

/** Refuses a zip with more entries than allowed, from the end record alone (before reading any entry). */
export function checkEntryCount(zip: yauzl.ZipFile, limits: ZipLayoutLimits): void {
  if (zip.entryCount > limits.maxEntries) {
    throw limits.refuse('maxEntries', `the zip archive has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
  }
}

/**
 * Reads every central-directory record (no entry data) and checks the layout; returns the
 * entries in archive order for the caller to read.
 */
export async function readCheckedEntries(zip: yauzl.ZipFile, limits: ZipLayoutLimits, signal?: AbortSignal): Promise<yauzl.Entry[]> {
  checkEntryCount(zip, limits);
  const entries: yauzl.Entry[] = [];
  let declared = 0;
  for await (const entry of zip.eachEntry()) {
    signal?.throwIfAborted();
    if (entries.length >= limits.maxEntries) {
      throw limits.refuse('maxEntries', `the zip archive has more than ${limits.maxEntries} entries, the limit`);
    }
    declared += entry.uncompressedSize;
    if (declared > limits.maxUncompressedBytes) {
      throw limits.refuse('maxUncompressedBytes', `the zip archive declares more than ${limits.maxUncompressedBytes} uncompressed bytes, the limit`);
    }
    entries.push(entry);
  }
  checkNoOverlap(entries);
  return entries;
}

/**
 * Refuses entries whose data ranges overlap. Each range is the least an entry can occupy
 * (header minimum plus compressed data), so a well-formed zip never trips it.
 */
export function checkNoOverlap(entries: readonly Pick<yauzl.Entry, 'relativeOffsetOfLocalHeader' | 'compressedSize' | 'fileNameRaw'>[]): void {
  const ranges = entries.map((e) => ({ start: e.relativeOffsetOfLocalHeader, end: e.relativeOffsetOfLocalHeader + LOCAL_HEADER_MIN + e.compressedSize, entry: e }));
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1]!;
    const current = ranges[i]!;
    if (current.start < previous.end) {
      const name = (e: { fileNameRaw: Buffer }) => JSON.stringify(Buffer.from(e.fileNameRaw).toString('utf8').slice(0, 100));
      throw new InputError(`the zip archive has overlapping entries (${name(previous.entry)} and ${name(current.entry)} share data): refused as a zip bomb`);
    }
  }
}

/** Counts inflated bytes over all entries of one archive, refusing past the limit. */
export class InflatedCounter {
  #total = 0;
  readonly #limits: ZipLayoutLimits;

  constructor(limits: ZipLayoutLimits) {
    this.#limits = limits;
  }

  add(bytes: number): void {
    this.#total += bytes;
    if (this.#total > this.#limits.maxUncompressedBytes) {
      throw this.#limits.refuse('maxUncompressedBytes', `the zip archive inflates to more than ${this.#limits.maxUncompressedBytes} bytes, the limit`);
    }
  }
}
