/** Turns a storage key into a blob name, refusing keys the contract forbids or Azure mangles. */
import { InputError } from '@opendepot/sdk';

/** Azure's limit on a blob name, in characters. */
const MAX_BLOB_NAME_LENGTH = 1024;
// C0 controls and DEL: Azure rejects some of them and they have no place in a key.
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, { field: 'key' });
}

/**
 * Normalises a key prefix: empty, or `/`-separated segments ending in `/`. Throws an
 * `InputError` for a prefix that is absolute or has `.`/`..`/empty segments.
 */
export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || CONTROL.test(segment) || segment.includes('\\')) {
      throw new InputError(`invalid key prefix ${JSON.stringify(prefix)}: segment ${JSON.stringify(segment)} is not allowed`, { field: 'prefix' });
    }
  }
  return `${trimmed}/`;
}

/**
 * The blob name of `key` under `prefix` (from {@link normalisePrefix}). Refused: empty keys,
 * absolute keys, `.`/`..`/empty segments, backslashes, control characters, segments ending in
 * `.` (the service drops trailing dots from URL path segments) and names over 1024 characters.
 */
export function blobNameOf(prefix: string, key: string): string {
  if (typeof key !== 'string' || key === '') refuse(String(key), 'it is empty');
  if (key.startsWith('/')) refuse(key, 'it is absolute');
  if (key.includes('\\')) refuse(key, 'it contains a backslash');
  if (CONTROL.test(key)) refuse(key, 'it contains a control character');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') refuse(key, `segment ${JSON.stringify(segment)} is not allowed`);
    if (segment.endsWith('.')) refuse(key, `segment ${JSON.stringify(segment)} ends with a dot, which Azure drops from URLs`);
  }
  const name = prefix + key;
  if (name.length > MAX_BLOB_NAME_LENGTH) refuse(key, `with the prefix it is longer than ${MAX_BLOB_NAME_LENGTH} characters`);
  return name;
}
