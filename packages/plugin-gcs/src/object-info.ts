/** Reads the `ObjectInfo` the contract needs out of GCS object metadata. */
import type { FileMetadata } from '@google-cloud/storage';
import { recordedSha256, type ObjectInfo } from '@opendepot/sdk';

/** The custom metadata key the SHA-256 (lowercase hex) is recorded under. */
export const SHA256_METADATA_KEY = 'sha256';

/** Object metadata reduced to what the plugin uses, plus the generation that pins its bytes. */
export interface StoredObject {
  info: ObjectInfo;
  /** The GCS generation: reading with it returns exactly the bytes `info` describes. */
  generation: string | undefined;
}

/**
 * Describes `key` from its object metadata. An object written by something other than this
 * plugin has no recorded checksum: its `sha256` is empty, which the host treats as unknown.
 */
export function storedObjectOf(key: string, metadata: FileMetadata): StoredObject {
  const sha256 = recordedSha256(metadata.metadata?.[SHA256_METADATA_KEY]);
  const updated = metadata.updated === undefined ? undefined : new Date(metadata.updated);
  const info: ObjectInfo = {
    key,
    size: Number(metadata.size ?? 0),
    sha256,
    ...(updated !== undefined && !Number.isNaN(updated.getTime()) && { modifiedAt: updated }),
  };
  const generation = metadata.generation === undefined || metadata.generation === null ? undefined : String(metadata.generation);
  return { info, generation };
}
