/** Turns storage keys into GCS object names under the prefix, refusing keys the contract forbids. */
import { randomBytes } from 'node:crypto';
import { InputError } from '@opendepot/sdk';

/** GCS limits object names to 1024 bytes of UTF-8. */
const MAX_OBJECT_NAME_BYTES = 1024;

/**
 * The folder (under the prefix) that puts stream into before they are verified and copied to
 * their key. No key may start with it, so a key can never name another put's temporary object.
 */
export const UPLOADS_FOLDER = '.opendepot-uploads';

// Control characters (including CR and LF, which GCS refuses in names) have no place in a key.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function refuse(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, { field: 'key' });
}

/** Normalises a configured prefix: empty stays empty, anything else ends with `/`. */
export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** Maps keys to object names under one prefix. */
export class ObjectNames {
  readonly prefix: string;

  constructor(prefix: string | undefined) {
    this.prefix = normalisePrefix(prefix);
  }

  /**
   * The object name of `key`. Refused with an `InputError`: empty, absolute, `.`/`..`/empty
   * segments, backslashes, control characters, keys inside the uploads folder, and names
   * longer than GCS allows.
   */
  objectName(key: string): string {
    if (typeof key !== 'string' || key === '') refuse(String(key), 'it is empty');
    if (key.startsWith('/')) refuse(key, 'it is absolute');
    if (key.includes('\\')) refuse(key, 'it contains a backslash');
    if (CONTROL_CHARACTER.test(key)) refuse(key, 'it contains a control character');
    const segments = key.split('/');
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..') refuse(key, `segment ${JSON.stringify(segment)} is not allowed`);
    }
    if (segments[0] === UPLOADS_FOLDER) refuse(key, `${UPLOADS_FOLDER}/ is where the storage keeps uploads in progress`);
    const name = this.prefix + key;
    if (Buffer.byteLength(name) > MAX_OBJECT_NAME_BYTES) refuse(key, `with the prefix it is longer than the ${MAX_OBJECT_NAME_BYTES} bytes GCS allows`);
    return name;
  }

  /** A fresh object name for one upload in progress, unique to it. */
  uploadName(): string {
    return `${this.prefix}${UPLOADS_FOLDER}/${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
  }
}
