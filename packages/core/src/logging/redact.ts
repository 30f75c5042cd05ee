/**
 * Secret redaction for logs and user-visible error text. Redaction is by field name (anything
 * that looks like a token, password, key or credential) and by value shape (credentials in
 * URLs, bearer tokens, signed-URL signatures, connection-string keys), at any depth.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /passw(or)?d|passphrase|^pass$|secret|token|authori[sz]ation|private[-_]?key|credential|api[-_]?key|access[-_]?key|account[-_]?key|client[-_]?key|connection[-_]?string|cookie|session[-_]?id/i;
// References to secrets and file names are not secrets themselves, and are what one debugs.
const NOT_SECRET_SUFFIX = /(Ref|Refs|Name|Names|File|Path|Env|Key[-_]?Id)$/;

/** Whether a field with this name must never be logged, e.g. `password`, `privateKey`, `authorization`. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_SUFFIX.test(key);
}

const STRING_RULES: ReadonlyArray<[RegExp, string]> = [
  // https://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]+@/gi, `$1${REDACTED}@`],
  // Authorization: Bearer xxx / Basic xxx
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // GitHub tokens, wherever they appear.
  [/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g, REDACTED],
  // Signed URLs (S3, GCS, Azure SAS) and token query parameters.
  [/([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|sig|signature|od_sig|token|access_token|code)=)[^&#\s]+/gi, `$1${REDACTED}`],
  // Azure connection strings.
  [/\b(AccountKey|SharedAccessSignature|SharedAccessKey)=[^;\s]+/gi, `$1=${REDACTED}`],
  // PEM private keys.
  [/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, `[REDACTED PRIVATE KEY]`],
];

// Every rule above needs one of these: text without any (most log fields) skips the six passes.
const MAY_HOLD_SECRET = /:\/\/|Bearer|Basic|_|=|-----BEGIN/;

/** Removes credentials embedded in free text (URLs, headers, connection strings, PEM keys). */
export function redactString(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of STRING_RULES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of `value` safe to log: secret-named fields replaced by {@link REDACTED}, strings
 * scrubbed by {@link redactString}, errors turned into plain objects (with `cause`), cycles cut.
 */
export function redact(value: unknown): unknown {
  return walk(value, new WeakSet(), 0);
}

const MAX_DEPTH = 12;

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return walkError(value, seen, depth);
    if (Array.isArray(value)) return value.map((item) => walk(item, seen, depth + 1));
    if (value instanceof Map)
      return walkEntries(
        [...value.entries()].map(([k, v]) => [String(k), v]),
        seen,
        depth,
      );
    if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
    return walkEntries(Object.entries(value), seen, depth);
  } finally {
    seen.delete(value);
  }
}

function walkEntries(entries: Array<[string, unknown]>, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    out[key] = isSecretKey(key) && item !== undefined && item !== null && item !== '' ? REDACTED : walk(item, seen, depth + 1);
  }
  return out;
}

function walkError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: redactString(error.message) };
  // Stable error fields (code, field, hint, transient, retryAfterMs, status...) but not the brand.
  const own = Object.entries(error).filter(([key]) => key !== 'name' && key !== 'message' && key !== 'stack');
  const extra = walkEntries(own, seen, depth);
  Object.assign(out, extra);
  if (error.stack) out.stack = redactString(error.stack);
  if (error.cause !== undefined) out.cause = walk(error.cause, seen, depth + 1);
  if (error instanceof AggregateError) out.errors = error.errors.map((e) => walk(e, seen, depth + 1));
  return out;
}
