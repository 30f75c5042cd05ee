/** The plugin's configuration (`storageConfig.webdav`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** A key of a Kubernetes Secret in the host's namespace. */
export interface SecretKeyRef {
  /** Name of the Secret. */
  name: string;
  /** Key in the Secret's data. */
  key: string;
}

/** Configuration of the WebDAV storage backend. */
export interface WebDavStorageConfig {
  /** URL of the collection (directory) the objects are stored under. */
  url: string;
  /** User name for HTTP Basic authentication. */
  username?: string;
  /** Where the password for {@link username} is kept. */
  passwordSecretRef?: SecretKeyRef;
  /** Time limit of one metadata request (and of the wait for a download's headers), in seconds. Default 30. */
  requestTimeoutSeconds?: number;
}

/** Default of {@link WebDavStorageConfig.requestTimeoutSeconds}. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/** JSON Schema (draft-07) of {@link WebDavStorageConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'webdav storage',
  description: 'Stores objects on a WebDAV server (RFC 4918): Apache mod_dav, nginx-dav-ext, Nextcloud, rclone serve webdav and the like.',
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      description:
        'URL of the collection the objects are stored under, e.g. https://dav.example.com/opendepot/. It is created at start-up if missing (its parent must exist). No credentials in the URL: use username and passwordSecretRef.',
      pattern: '^https?://[^/@\\s]+(/[^\\s]*)?$',
      minLength: 8,
      maxLength: 2048,
    },
    username: {
      type: 'string',
      description: 'User name for HTTP Basic authentication. Requires passwordSecretRef.',
      minLength: 1,
      maxLength: 256,
      pattern: '^[^:]*$',
    },
    passwordSecretRef: {
      type: 'object',
      description: 'The Secret key (in the namespace OpenDepot runs in) holding the password of username. Requires username.',
      additionalProperties: false,
      required: ['name', 'key'],
      properties: {
        name: { type: 'string', description: 'Name of the Secret.', minLength: 1, maxLength: 253 },
        key: { type: 'string', description: 'Key in the Secret.', minLength: 1, maxLength: 253 },
      },
    },
    requestTimeoutSeconds: {
      type: 'integer',
      description: 'Time limit of one metadata request (PROPFIND, MKCOL, MOVE, DELETE) and of the wait for a download to start. Transfers themselves have no time limit.',
      minimum: 1,
      maximum: 600,
      default: DEFAULT_REQUEST_TIMEOUT_SECONDS,
    },
  },
  dependencies: {
    username: ['passwordSecretRef'],
    passwordSecretRef: ['username'],
  },
};
