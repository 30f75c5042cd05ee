/** Turns a storage key into a blob name under the prefix, with the SDK's key rules. */
import { checkKey } from '@opendepot/sdk';

/**
 * The blob name of `key` under `prefix` (from the SDK's `normalisePrefix`), refused by
 * `checkKey`: its 1024-byte limit with the prefix keeps within Azure's 1024 characters, and its
 * refusal of segments ending in `.` covers the service dropping trailing dots from URL paths.
 */
export function blobNameOf(prefix: string, key: string): string {
  return prefix + checkKey(key, { prefix }).join('/');
}
