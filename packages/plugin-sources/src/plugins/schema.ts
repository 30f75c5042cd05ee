/** JSON Schema pieces the source plugins' config schemas share. */
import type { JsonSchema } from '@opendepot/sdk';

export const positiveInteger = { type: 'integer', minimum: 1 } as const;

export const hostList = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string', minLength: 1 }, description });

export const tmpDirSchema: JsonSchema = { type: 'string', minLength: 1, description: 'Where downloads are spooled while worked on. Default: the OS temp directory.' };

export const limitsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Limits of an upstream archive; bytes are counted as they stream.',
  properties: {
    maxInputBytes: { ...positiveInteger, description: 'Compressed bytes read from the upstream.' },
    maxTotalBytes: { ...positiveInteger, description: 'Uncompressed bytes of all files together.' },
    maxEntryBytes: { ...positiveInteger, description: 'Uncompressed bytes of one file.' },
    maxEntries: { ...positiveInteger, description: 'Entries (files, directories, links).' },
  },
};

export const egressSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Which addresses the source connects to: non-public ones (loopback, private, link-local...) are refused unless allowed.',
  properties: {
    allowPrivateNetworks: { type: 'boolean', description: 'Connect to any non-public address. Default false.' },
    allowedPrivateCidrs: hostList('Non-public ranges allowed anyway, e.g. 10.20.0.0/16.'),
  },
};

export const rateSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['idleTimeoutMs', 'minBytesPerSecond'],
  description: 'How slow an upstream body may be before it is cut (operator.limits.upstreamIdleTimeoutSeconds, upstreamMinBytesPerSecond). Default 60000 ms and 1024 B/s.',
  properties: {
    idleTimeoutMs: { ...positiveInteger, description: 'No byte for this long cuts the body; also the window the rate is averaged over.' },
    minBytesPerSecond: { type: 'integer', minimum: 0, description: 'Fewer bytes per second than this, averaged over one window, cut the body.' },
  },
};
