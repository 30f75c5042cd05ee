/** The plugin's configuration (`plugins[].config` of `https-dir`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** Configuration of the HTTPS directory source. */
export interface HttpsDirSourceConfig {
  /** URL of the directory holding `<namespace>/<name>/index.json` and the tarballs. */
  baseUrl: string;
  /** Accept an http:// baseUrl (a local test server only). Default false. */
  allowInsecureHttp?: boolean;
  /** PEM file of extra certificate authorities to trust, besides Node's own list. */
  caFile?: string;
  /** Largest archive accepted, in bytes. Default 64 MiB. */
  maxArchiveBytes?: number;
  /** Time limit of the index request, and of the wait for an archive's headers, in seconds. Default 30. */
  requestTimeoutSeconds?: number;
}

/** Default of {@link HttpsDirSourceConfig.maxArchiveBytes}. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;
/** Default of {@link HttpsDirSourceConfig.requestTimeoutSeconds}. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/** JSON Schema (draft-07) of {@link HttpsDirSourceConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'https-dir archive source',
  description: 'Serves modules from a plain HTTPS directory: <baseUrl>/<namespace>/<name>/index.json lists the versions, <name>-<version>.tar.gz next to it is each archive.',
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl'],
  properties: {
    baseUrl: {
      type: 'string',
      description: 'URL of the directory, e.g. https://downloads.example.com/modules/. https:// only, unless allowInsecureHttp. No credentials in the URL.',
      pattern: '^https?://[^/@\\s]+(/[^\\s]*)?$',
      minLength: 8,
      maxLength: 2048,
    },
    allowInsecureHttp: {
      type: 'boolean',
      description: 'Accept an http:// baseUrl. For a local test server only: archives fetched over plain HTTP can be altered on the way.',
      default: false,
    },
    caFile: {
      type: 'string',
      description: 'Path of a PEM file of extra certificate authorities to trust (a private CA), besides the ones Node trusts.',
      minLength: 1,
      maxLength: 4096,
    },
    maxArchiveBytes: {
      type: 'integer',
      description: 'Largest archive accepted, in bytes; a bigger one is refused (InputError) before it is stored.',
      minimum: 1,
      maximum: 4294967296,
      default: DEFAULT_MAX_ARCHIVE_BYTES,
    },
    requestTimeoutSeconds: {
      type: 'integer',
      description: 'Time limit of the index request, and of the wait for an archive download to start. The download itself has no time limit.',
      minimum: 1,
      maximum: 600,
      default: DEFAULT_REQUEST_TIMEOUT_SECONDS,
    },
  },
};
