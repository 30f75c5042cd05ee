/** The plugin's configuration (`storageConfig.filesystem`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** Configuration of the filesystem storage backend. */
export interface FilesystemStorageConfig {
  /** Absolute path of the directory objects are stored under. */
  path: string;
  /**
   * The directory `path` must stay inside, symlinks resolved: set by the platform (the storage
   * profile), so a resource's `path` cannot point anywhere else. Default: `path` itself.
   */
  root?: string;
}

/** JSON Schema (draft-07) of {@link FilesystemStorageConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'filesystem storage',
  description: 'Stores objects as files under one directory: in a cluster, a ReadWriteMany volume mounted at the same path into the operator and the server.',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: {
      type: 'string',
      description: 'Absolute path of the directory objects are stored under, e.g. /data/opendepot. Created at start-up if missing; must be writable.',
      pattern: '^/',
      minLength: 1,
      maxLength: 4096,
    },
    root: {
      type: 'string',
      description: 'Absolute directory that path must be inside (symlinks are resolved first); set by the platform in a storage profile, never by resources. Default: path itself.',
      pattern: '^/',
      minLength: 1,
      maxLength: 4096,
    },
  },
};
