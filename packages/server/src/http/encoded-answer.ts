/**
 * A JSON answer encoded once: its UTF-8 bytes, a strong ETag and (for large answers) a gzipped
 * copy, so a request for an unchanged answer costs no re-encoding, no hashing and no compression.
 * Whoever caches one rebuilds it when the data behind it changes (views are replaced, never edited).
 */
import { createHash } from 'node:crypto';
import { constants, gzipSync } from 'node:zlib';
import type { Context } from 'koa';

/** Below this size gzip saves less than it costs (and a header's worth of bytes at best). */
export const GZIP_MIN_BYTES = 1024;

/** One encoded JSON answer. */
export class EncodedAnswer {
  readonly body: Buffer;
  /** A strong validator of `body` (quoted, as the header carries it). */
  readonly etag: string;
  #gzipped: Buffer | undefined;

  constructor(json: string) {
    this.body = Buffer.from(json, 'utf8');
    this.etag = `"${createHash('sha256').update(this.body).digest('base64url').slice(0, 32)}"`;
  }

  /** The gzipped copy, compressed on first use; undefined for answers too small to be worth it. */
  get gzipped(): Buffer | undefined {
    if (this.body.length < GZIP_MIN_BYTES) return undefined;
    return (this.#gzipped ??= gzipSync(this.body, { level: constants.Z_BEST_COMPRESSION }));
  }

  /** The answer as text (for tests and messages). */
  text(): string {
    return this.body.toString('utf8');
  }
}

/**
 * Sends `answer` as a 200 `application/json` (`Cache-Control: private, no-cache`), or a 304
 * without a body when `If-None-Match` names its ETag, gzipped when the client accepts gzip.
 */
export function sendEncoded(ctx: Context, answer: EncodedAnswer): void {
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.set('ETag', answer.etag);
  const gzipped = answer.gzipped;
  // Caches must keep the plain and gzipped forms apart, 304s included.
  if (gzipped !== undefined) ctx.set('Vary', 'Accept-Encoding');
  if (matchesEtag(ctx.get('If-None-Match'), answer.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  if (gzipped !== undefined && acceptsGzip(ctx.get('Accept-Encoding'))) {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzipped;
  } else {
    ctx.body = answer.body;
  }
}

/** `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches anything. */
export function matchesEtag(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header === etag) return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}

// `gzip` listed without `q=0` (RFC 9110 §12.5.3); `*` alone is not taken as gzip.
const GZIP_REFUSED = /(?:^|,)\s*gzip\s*;\s*q\s*=\s*0(?:\.0{0,3})?\s*(?:,|$)/i;
const GZIP_LISTED = /(?:^|,)\s*gzip\s*(?:[;,]|$)/i;

/** Whether an `Accept-Encoding` header accepts gzip. */
export function acceptsGzip(header: string): boolean {
  return header !== '' && GZIP_LISTED.test(header) && !GZIP_REFUSED.test(header);
}
