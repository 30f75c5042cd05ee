/**
 * HTTP `Range` requests (RFC 9110 §14) for one representation of known size: a single byte range
 * is served as 206; anything the server does not do (several ranges, other units, bad syntax)
 * is ignored, which the RFC allows, and the whole body is sent.
 */

/** What to send for a request's `Range` and `If-Range` headers. */
export type RangeDecision =
  /** The whole representation (no Range, an ignored one, or If-Range no longer matching). */
  | { kind: 'full' }
  /** Bytes `start` to `end`, both inclusive. */
  | { kind: 'partial'; start: number; end: number }
  /** 416: no byte of the range exists. */
  | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Decides how to answer `range` (the Range header) for a representation of `size` bytes whose
 * strong ETag is `etag` (quoted). `ifRange` is the If-Range header: a range is honoured only
 * when it names this ETag (a date or another ETag means "send it all, it changed").
 */
export function decideRange(range: string | undefined, size: number, etag: string, ifRange?: string): RangeDecision {
  if (range === undefined || range === '') return { kind: 'full' };
  if (ifRange !== undefined && ifRange !== '' && ifRange.trim() !== etag) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(range);
  if (match === null) return { kind: 'full' };
  const specs = match[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // One range only; multipart/byteranges is not offered.
  if (specs.length !== 1) return { kind: 'full' };
  const spec = SPEC.exec(specs[0]!);
  if (spec === null) return { kind: 'full' };
  const [, first = '', last = ''] = spec;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  // Digits only, so both are integers (or Infinity for absurd lengths, which compares right).
  const start = Number(first);
  const lastByte = last === '' ? Infinity : Number(last);
  if (lastByte < start) return { kind: 'full' }; // an invalid spec is ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(lastByte, size - 1) };
}
