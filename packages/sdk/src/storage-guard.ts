/**
 * The storage contract's rules as functions, so every backend applies the same ones: keys,
 * prefixes, the expected SHA-256 of a put, byte ranges, and the error a checksum mismatch is.
 * A backend calls them at the top of each operation; the conformance kit checks the result.
 *
 * Rules, once for all backends:
 * - A key is 1 to {@link MAX_KEY_BYTES} UTF-8 bytes (with the backend's prefix) of
 *   `/`-separated segments. Refused: absolute keys, empty, `.` and `..` segments, backslashes,
 *   control characters, segments ending in `.` (Azure, Windows and some WebDAV servers drop a
 *   trailing dot, so `a.` and `a` would be one object), and segments starting with
 *   {@link RESERVED_SEGMENT_PREFIX} in any case (backends keep their own files there, e.g.
 *   {@link UPLOADS_FOLDER}). A backend adds its layout's own names with `reservedSuffixes`.
 * - Reserved names are compared case-insensitively everywhere: a file system or a WebDAV server
 *   may fold case, and a key must never name a backend's own file on any of them.
 * - A prefix is normalised to `''` or `seg/.../seg/`: leading and trailing slashes are dropped,
 *   and each segment follows the key rules.
 * - An expected SHA-256 is 64 hex digits in either case, normalised to lowercase: hex is
 *   case-insensitive, and `ObjectInfo.sha256` is always lowercase, so the two compare as strings.
 * - A range is inclusive; `start` is a non-negative integer, `end` (optional) an integer not
 *   below `start`. An `end` past the object is clamped by the backend, like HTTP.
 * - Content that hashes differently from `PutOptions.sha256` is an {@link IntegrityError}, and
 *   nothing of it may become visible. Malformed arguments are {@link InputError}s.
 */
import { InputError, IntegrityError } from './errors.ts';
import type { GetOptions, PutOptions } from './storage.ts';

/** Longest key, with the backend's prefix, in UTF-8 bytes (the S3 and GCS limit). */
export const MAX_KEY_BYTES = 1024;
/** Segments starting with this (in any case) are for backends' own files, never keys. */
export const RESERVED_SEGMENT_PREFIX = '.opendepot';
/** The folder, under a backend's prefix, where uploads wait before they become visible. */
export const UPLOADS_FOLDER = '.opendepot-uploads';

// C0 controls and DEL: stores refuse or mangle some of them, and none belongs in a key.
const CONTROL = /[\u0000-\u001f\u007f]/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What a backend adds to the key rules for its own layout. */
export interface KeyRules {
  /** The normalised prefix (from {@link normalisePrefix}) the key is stored under; counts towards `maxBytes`. */
  prefix?: string;
  /** Longest prefix plus key in UTF-8 bytes. Default and upper bound: {@link MAX_KEY_BYTES}. */
  maxBytes?: number;
  /** Longest segment in UTF-8 bytes (a file system's name limit, less the layout's suffixes). */
  maxSegmentBytes?: number;
  /** Longest last segment in UTF-8 bytes, when the layout appends more to it than to directories. */
  maxLastSegmentBytes?: number;
  /**
   * Endings of the layout's own names (`.sha256.json`, `.odv`): a segment ending like one is
   * refused. Strings and patterns are matched against the lowercased segment.
   */
  reservedSuffixes?: readonly (string | RegExp)[];
}

function refuseKey(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, {
    field: 'key',
    hint: 'Use a relative key of "/"-separated segments, none empty, ".", "..", ending in "." or starting with ".opendepot".',
  });
}

/** Why `segment` may not be a key or prefix segment, or undefined when it may. */
function segmentProblem(segment: string): string | undefined {
  if (segment === '' || segment === '.' || segment === '..') return `segment ${JSON.stringify(segment)} is not allowed`;
  if (segment.endsWith('.')) return `segment ${JSON.stringify(segment)} ends with a dot, which some stores drop`;
  if (segment.toLowerCase().startsWith(RESERVED_SEGMENT_PREFIX)) return `segment ${JSON.stringify(segment)} starts with ${RESERVED_SEGMENT_PREFIX}, which storage backends reserve for their own files`;
  return undefined;
}

/** Why `text` cannot be part of a key or prefix, or undefined when it can. */
function characterProblem(text: string): string | undefined {
  if (text.includes('\\')) return 'it contains a backslash';
  if (CONTROL.test(text)) return 'it contains a control character';
  return undefined;
}

function endsReserved(segment: string, suffixes: readonly (string | RegExp)[]): boolean {
  const lower = segment.toLowerCase();
  return suffixes.some((s) => (typeof s === 'string' ? lower.endsWith(s.toLowerCase()) : s.test(lower)));
}

/**
 * Checks `key` against the contract's rules and the backend's `rules`, and returns its segments.
 * Throws an {@link InputError} (field `key`) saying which rule it breaks.
 */
export function checkKey(key: unknown, rules: KeyRules = {}): string[] {
  if (typeof key !== 'string') refuseKey(String(key), `it must be a string, got ${typeof key}`);
  if (key === '') refuseKey(key, 'it is empty');
  if (key.startsWith('/')) refuseKey(key, 'it is absolute');
  const bad = characterProblem(key);
  if (bad !== undefined) refuseKey(key, bad);
  const segments = key.split('/');
  const suffixes = rules.reservedSuffixes ?? [];
  for (const [i, segment] of segments.entries()) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) refuseKey(key, problem);
    if (endsReserved(segment, suffixes)) refuseKey(key, `segment ${JSON.stringify(segment)} ends like the storage's own files`);
    const room = i === segments.length - 1 ? (rules.maxLastSegmentBytes ?? rules.maxSegmentBytes) : rules.maxSegmentBytes;
    if (room !== undefined && Buffer.byteLength(segment) > room) refuseKey(key, `segment ${JSON.stringify(segment.slice(0, 32))}... is longer than ${room} bytes`);
  }
  const prefix = rules.prefix ?? '';
  const max = Math.min(rules.maxBytes ?? MAX_KEY_BYTES, MAX_KEY_BYTES);
  if (Buffer.byteLength(prefix + key) > max) refuseKey(key, prefix === '' ? `it is longer than ${max} bytes` : `with the prefix ${JSON.stringify(prefix)} it is longer than ${max} bytes`);
  return segments;
}

/**
 * Normalises a configured key prefix to `''` or `seg/.../seg/`, so `opendepot`, `/opendepot`
 * and `opendepot/` all store `a/b` as `opendepot/a/b`. Throws an {@link InputError} naming
 * `field` for a segment the key rules refuse.
 */
export function normalisePrefix(prefix: string | undefined, field = 'prefix'): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const problem =
    characterProblem(trimmed) ??
    trimmed
      .split('/')
      .map(segmentProblem)
      .find((p) => p !== undefined);
  if (problem !== undefined) {
    throw new InputError(`invalid key prefix ${JSON.stringify(prefix)}: ${problem}`, { field, hint: `Set ${field} to "/"-separated segments, e.g. "opendepot/".` });
  }
  return `${trimmed}/`;
}

/**
 * Checks an expected SHA-256 and returns it as lowercase hex (undefined stays undefined).
 * Throws an {@link InputError} naming `field` when it is not 64 hex digits.
 */
export function checkSha256(value: unknown, field = 'sha256'): string | undefined {
  if (value === undefined) return undefined;
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (lower === undefined || !SHA256_HEX.test(lower)) {
    throw new InputError(`${field} must be a SHA-256 as 64 hex digits, got ${JSON.stringify(value)}`, { field });
  }
  return lower;
}

/**
 * The SHA-256 a store recorded beside an object (metadata it wrote, or something else did), as
 * `ObjectInfo.sha256`: lowercase hex, or `''` ("unknown") when it is missing or not a SHA-256.
 */
export function recordedSha256(value: unknown): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  return SHA256_HEX.test(lower) ? lower : '';
}

/** {@link PutOptions} a backend can rely on: `sha256` lowercase, `size` a non-negative integer. */
export interface CheckedPutOptions {
  sha256: string | undefined;
  size: number | undefined;
}

/** Checks the `sha256` and `size` of {@link PutOptions}; throws an {@link InputError} naming the field. */
export function checkPutOptions(options: PutOptions = {}): CheckedPutOptions {
  const { size } = options;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new InputError(`size must be a non-negative integer, got ${size}`, { field: 'size' });
  return { sha256: checkSha256(options.sha256), size };
}

/** A checked inclusive byte range. */
export interface CheckedRange {
  start: number;
  end: number | undefined;
}

/** Checks {@link GetOptions.range}; undefined stays undefined. Throws an {@link InputError} naming `range.start` or `range.end`. */
export function checkRange(range: GetOptions['range']): CheckedRange | undefined {
  if (range === undefined) return undefined;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw new InputError(`range start must be a non-negative integer, got ${start}`, { field: 'range.start' });
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) throw new InputError(`range end must be an integer not below start (${start}), got ${end}`, { field: 'range.end' });
  return { start, end };
}

/**
 * Throws the contract's {@link IntegrityError} when the content put under `key` hashed to
 * `actual` but the caller expected `expected` (from {@link checkSha256}; undefined: no check).
 * Call it before the content becomes visible.
 */
export function verifySha256(key: string, expected: string | undefined, actual: string): void {
  if (expected === undefined || actual === expected) return;
  throw new IntegrityError(`the content of ${key} hashes to sha256 ${actual}, not the expected ${expected}; nothing was stored`, {
    field: 'sha256',
    hint: 'The body is not the archive the checksum describes: fetch it again, or correct the expected checksum.',
  });
}
