/** Turns a key into a place under the root, refusing any key that could leave it. */
import { resolve, sep } from 'node:path';
import { InputError } from '@opendepot/sdk';
import { LONGEST_SUFFIX, looksGenerated } from './layout.ts';

const MAX_KEY_LENGTH = 1024;
const MAX_NAME_BYTES = 255;

/** Where a key's files live: its directory and the last segment of the key. */
export interface KeyLocation {
  dir: string;
  name: string;
}

function refuse(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, { field: 'key' });
}

/**
 * Checks `key` and returns where its files live under `root` (an absolute, normalised path).
 * Refused: empty, absolute, `.`/`..`/empty segments, backslashes, NUL, names the layout uses
 * for its own files, and names too long for the file system once suffixed.
 */
export function locate(root: string, key: string): KeyLocation {
  if (typeof key !== 'string' || key === '') refuse(String(key), 'it is empty');
  if (key.length > MAX_KEY_LENGTH) refuse(key, `it is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) refuse(key, 'it is absolute');
  if (key.includes('\\')) refuse(key, 'it contains a backslash');
  if (key.includes('\0')) refuse(key, 'it contains a NUL character');
  const segments = key.split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '' || segment === '.' || segment === '..') refuse(key, `segment ${JSON.stringify(segment)} is not allowed`);
    if (looksGenerated(segment)) refuse(key, `segment ${JSON.stringify(segment)} ends like the storage's own files`);
    const room = i === segments.length - 1 ? MAX_NAME_BYTES - LONGEST_SUFFIX : MAX_NAME_BYTES;
    if (Buffer.byteLength(segment) > room) refuse(key, `segment ${JSON.stringify(segment.slice(0, 32))}... is longer than ${room} bytes`);
  }
  const file = resolve(root, ...segments);
  // Belt and braces: the checks above already keep every key inside the root.
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) refuse(key, 'it resolves outside the storage directory');
  const cut = file.lastIndexOf(sep);
  return { dir: file.slice(0, cut), name: file.slice(cut + 1) };
}
