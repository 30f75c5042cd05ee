/** Turns storage keys into S3 object keys under the configured prefix, refusing unsafe keys. */
import { InputError } from '@opendepot/sdk';

/** S3's limit on the length of an object key, in UTF-8 bytes. */
const MAX_OBJECT_KEY_BYTES = 1024;
/** Where uploads of unknown checksum wait before they are copied into place; no key may live there. */
export const UPLOADS_DIR = '.uploads';

function refuse(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, { field: 'key' });
}

/**
 * Normalises a configured prefix: no leading `/`, and a trailing `/` unless it is empty, so
 * `opendepot` and `opendepot/` both store `a/b` as `opendepot/a/b`.
 */
export function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '');
  if (trimmed === '') return '';
  const segments = trimmed.replace(/\/+$/, '').split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`prefix ${JSON.stringify(prefix)} must not contain empty, "." or ".." segments`, { field: 'prefix' });
  }
  return `${segments.join('/')}/`;
}

/** Maps storage keys to object keys under one prefix. */
export class KeyMapper {
  readonly prefix: string;

  constructor(prefix: string | undefined) {
    this.prefix = normalisePrefix(prefix);
  }

  /**
   * The object key of `key`. Refused like the filesystem backend does: empty, absolute,
   * `.`/`..`/empty segments, backslashes, control characters, the uploads area, and keys too
   * long for S3 once prefixed.
   */
  objectKey(key: string): string {
    if (typeof key !== 'string' || key === '') refuse(String(key), 'it is empty');
    if (key.startsWith('/')) refuse(key, 'it is absolute');
    if (key.includes('\\')) refuse(key, 'it contains a backslash');
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u001f\u007f]/.test(key)) refuse(key, 'it contains a control character');
    const segments = key.split('/');
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..') refuse(key, `segment ${JSON.stringify(segment)} is not allowed`);
    }
    if (segments[0] === UPLOADS_DIR) refuse(key, `${UPLOADS_DIR}/ is where uploads wait before they are stored`);
    const objectKey = this.prefix + key;
    if (Buffer.byteLength(objectKey) > MAX_OBJECT_KEY_BYTES) refuse(key, `with the prefix it is longer than S3's ${MAX_OBJECT_KEY_BYTES} bytes`);
    return objectKey;
  }

  /** A fresh object key for an upload waiting to be copied into place. */
  uploadKey(id: string): string {
    return `${this.prefix}${UPLOADS_DIR}/${id}`;
  }
}
