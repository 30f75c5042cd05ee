/** Turns storage keys into GCS object names under the prefix, with the SDK's key rules. */
import { randomBytes } from 'node:crypto';
import { checkKey, normalisePrefix, UPLOADS_FOLDER } from '@opendepot/sdk';

/** Maps keys to object names under one prefix. */
export class ObjectNames {
  readonly prefix: string;

  constructor(prefix: string | undefined) {
    this.prefix = normalisePrefix(prefix);
  }

  /** The object name of `key`: refused by `checkKey` (GCS's 1024-byte limit includes the prefix). */
  objectName(key: string): string {
    return this.prefix + checkKey(key, { prefix: this.prefix }).join('/');
  }

  /** A fresh object name for one upload in progress, unique to it, in the folder no key can reach. */
  uploadName(): string {
    return `${this.prefix}${UPLOADS_FOLDER}/${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
  }
}
