/** Checks storage keys and splits them into path segments on the server. */
import { InputError } from '@opendepot/sdk';
import { TRASH_SUFFIX, VERSIONS_SUFFIX } from './layout.ts';

const MAX_KEY_LENGTH = 1024;
/** Leaves room for the layout's suffixes within the 255-byte names most file systems allow. */
const MAX_SEGMENT_BYTES = 200;
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(key: string, why: string): never {
  throw new InputError(`invalid storage key ${JSON.stringify(key)}: ${why}`, { field: 'key' });
}

/**
 * The path segments of `key`. Refused with an `InputError`: empty, absolute, `.`/`..`/empty
 * segments, backslashes, control characters, and segments ending like the layout's own
 * collections (`.odv`, `.odt`).
 */
export function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key === '') refuse(String(key), 'it is empty');
  if (key.length > MAX_KEY_LENGTH) refuse(key, `it is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) refuse(key, 'it is absolute');
  if (key.includes('\\')) refuse(key, 'it contains a backslash');
  if (CONTROL.test(key)) refuse(key, 'it contains a control character');
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') refuse(key, `segment ${JSON.stringify(segment)} is not allowed`);
    const lower = segment.toLowerCase();
    if (lower.endsWith(VERSIONS_SUFFIX) || lower.endsWith(TRASH_SUFFIX)) refuse(key, `segment ${JSON.stringify(segment)} ends like the storage's own collections (${VERSIONS_SUFFIX}, ${TRASH_SUFFIX})`);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) refuse(key, `segment ${JSON.stringify(segment.slice(0, 32))}... is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments;
}
