/**
 * The module sources as plugins of the `archive-source` kind, so that they are loaded, configured
 * and validated like any third-party source.
 */
import { ForbiddenError, PLUGIN_API_VERSION, definePlugin, isOpenDepotError, type JsonSchema, type PluginContext } from '@opendepot/sdk';
import { GitArchiveSource, type GitSourceOptions } from './git.ts';
import type { SecretReader } from './github-client.ts';
import { GithubArchiveSource, type GithubSourceOptions } from './github.ts';

const positiveInteger = { type: 'integer', minimum: 1 };
const limitsSchema: JsonSchema = {
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

const egressSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Which addresses the source connects to: non-public ones (loopback, private, link-local...) are refused unless allowed.',
  properties: {
    allowPrivateNetworks: { type: 'boolean', description: 'Connect to any non-public address. Default false.' },
    allowedPrivateCidrs: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Non-public ranges allowed anyway, e.g. 10.20.0.0/16.' },
  },
};

/** Config of the `github` plugin: {@link GithubSourceOptions} without the callbacks. */
export type GithubPluginConfig = Omit<GithubSourceOptions, 'readSecret' | 'logger'>;
/** Config of the `git` plugin: {@link GitSourceOptions} without the logger. */
export type GitPluginConfig = Omit<GitSourceOptions, 'logger'>;

/** The `github` archive source plugin. */
export const githubArchiveSourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'github',
  apiVersion: PLUGIN_API_VERSION,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      baseUrl: { type: 'string', pattern: '^https?://', description: 'GitHub API base URL. Default https://api.github.com.' },
      upstreamArchive: { enum: ['tarball', 'zipball'], description: 'Archive to download. Default tarball.' },
      retries: { type: 'integer', minimum: 0, maximum: 10, description: 'Quick retries of 5xx answers. Default 2.' },
      retryBaseMs: { ...positiveInteger, description: 'Base of the retry delay. Default 500.' },
      requestTimeoutMs: { ...positiveInteger, description: 'Timeout of one API call. Default 30000.' },
      downloadTimeoutMs: { ...positiveInteger, description: 'Timeout of one download. Default 600000.' },
      tmpDir: { type: 'string', description: 'Spool directory. Default: the OS temp directory.' },
      userAgent: { type: 'string' },
      limits: limitsSchema,
      allowedHosts: { type: 'array', items: { type: 'string', minLength: 1 }, description: "When set, hosts the API's redirects may lead to besides its own (exact, or *.example.com)." },
      egress: egressSchema,
    },
  },
  create: (config: GithubPluginConfig, context: PluginContext) =>
    new GithubArchiveSource({ ...config, logger: context.logger, ...(context.readSecret ? { readSecret: hostSecretReader(context) } : {}) }),
});

/** The `git` archive source plugin. */
export const gitArchiveSourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'git',
  apiVersion: PLUGIN_API_VERSION,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      allowFileUrls: { type: 'boolean', description: 'Allow file:// remotes and local paths (local setups only). Default false.' },
      allowedHosts: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'When set, remotes must be on these hosts (exact, or *.example.com).' },
      git: { type: 'string', description: 'The git binary. Default git.' },
      timeoutMs: { ...positiveInteger, description: 'Timeout of one git command. Default 300000.' },
      env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment for git, e.g. GIT_SSH_COMMAND.' },
      tmpDir: { type: 'string', description: 'Work directory. Default: the OS temp directory.' },
      limits: limitsSchema,
      egress: egressSchema,
    },
  },
  create: (config: GitPluginConfig, context: PluginContext) => new GitArchiveSource({ ...config, logger: context.logger }),
});

/**
 * The host's Secret reader reads its own namespace only. A Secret referenced from another
 * namespace is refused rather than read from the wrong place: a resource must never reach
 * another namespace's credentials.
 */
function hostSecretReader(context: PluginContext): SecretReader {
  return async (name, key, namespace) => {
    if (namespace !== undefined) {
      throw new ForbiddenError(`the github plugin cannot read Secret ${namespace}/${name}: its host only reads Secrets of its own namespace`);
    }
    try {
      return await context.readSecret?.(name, key);
    } catch (err) {
      if (isOpenDepotError(err, 'not_found')) return undefined;
      throw err;
    }
  };
}
