/** Checks storage keys (the SDK's `checkKey`) and splits them into path segments on the server. */
import { checkKey } from '@opendepot/sdk';
import { TRASH_SUFFIX, VERSIONS_SUFFIX } from './layout.ts';

/** Leaves room for the layout's suffixes within the 255-byte names most file systems allow. */
const MAX_SEGMENT_BYTES = 200;

/**
 * The path segments of `key`. Refused with an `InputError`: whatever `checkKey` refuses, segments
 * ending like the layout's own collections (`.odv`, `.odt`, in any case: the server's file system
 * may fold case), and segments too long for the server's file system once suffixed.
 */
export function keySegments(key: string): string[] {
  return checkKey(key, { maxSegmentBytes: MAX_SEGMENT_BYTES, reservedSuffixes: [VERSIONS_SUFFIX, TRASH_SUFFIX] });
}
