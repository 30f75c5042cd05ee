/** Turns storage keys into S3 object keys under the configured prefix, with the SDK's key rules. */
import { checkKey, normalisePrefix, UPLOADS_FOLDER } from '@opendepot/sdk';

/**
 * Where releases before the shared `UPLOADS_FOLDER` kept uploads of unknown checksum. Only
 * swept (objects named by a UUID, as those releases named them), never written.
 */
export const LEGACY_UPLOADS_FOLDER = '.uploads';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Maps storage keys to object keys under one prefix. */
export class KeyMapper {
  readonly prefix: string;

  constructor(prefix: string | undefined) {
    this.prefix = normalisePrefix(prefix);
  }

  /** The object key of `key`: refused by `checkKey` (S3's 1024-byte limit includes the prefix). */
  objectKey(key: string): string {
    return this.prefix + checkKey(key, { prefix: this.prefix }).join('/');
  }

  /** A fresh object key for an upload waiting to be copied into place. */
  uploadKey(id: string): string {
    return `${this.prefix}${UPLOADS_FOLDER}/${id}`;
  }

  /** Where leftovers of interrupted uploads may lie, and which object keys there are leftovers. */
  uploadFolders(): { prefix: string; isLeftover: (objectKey: string) => boolean }[] {
    const legacy = `${this.prefix}${LEGACY_UPLOADS_FOLDER}/`;
    return [
      { prefix: this.uploadKey(''), isLeftover: () => true },
      { prefix: legacy, isLeftover: (objectKey) => UUID.test(objectKey.slice(legacy.length)) },
    ];
  }
}
