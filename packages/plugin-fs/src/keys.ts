/** Turns a key into a place under the root, refusing any key that could leave it. */
import { resolve, sep } from 'node:path';
import { checkKey, InputError } from '@opendepot/sdk';
import { LONGEST_SUFFIX, RESERVED_SUFFIXES } from './layout.ts';

/** Most file systems' limit on one name, in bytes. */
const MAX_NAME_BYTES = 255;

/** Where a key's files live: its directory and the last segment of the key. */
export interface KeyLocation {
  dir: string;
  name: string;
}

/**
 * Checks `key` with the contract's rules (`checkKey`), plus the layout's: no segment ending like
 * the layout's own files, and names short enough for the file system once suffixed. Returns
 * where its files live under `root` (an absolute, normalised path).
 */
export function locate(root: string, key: string): KeyLocation {
  const segments = checkKey(key, { maxSegmentBytes: MAX_NAME_BYTES, maxLastSegmentBytes: MAX_NAME_BYTES - LONGEST_SUFFIX, reservedSuffixes: RESERVED_SUFFIXES });
  const file = resolve(root, ...segments);
  // Belt and braces: the checks above already keep every key inside the root.
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new InputError(`invalid storage key ${JSON.stringify(key)}: it resolves outside the storage directory`, { field: 'key' });
  }
  const cut = file.lastIndexOf(sep);
  return { dir: file.slice(0, cut), name: file.slice(cut + 1) };
}
