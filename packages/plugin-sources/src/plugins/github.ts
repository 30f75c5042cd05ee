/** The `github` archive source plugin: module versions from a GitHub repository's releases. */
import { ForbiddenError, PLUGIN_API_VERSION, definePlugin, isOpenDepotError, type PluginContext } from '@opendepot/sdk';
import type { EgressOptions } from '../egress.ts';
import type { SecretReader } from '../github-client.ts';
import { GithubArchiveSource, type GithubSourceOptions } from '../github.ts';
import { withOwnEgress } from './owned-egress.ts';
import { egressSchema, hostList, limitsSchema, positiveInteger, rateSchema, tmpDirSchema } from './schema.ts';

/** Config of the `github` plugin: {@link GithubSourceOptions} without the callbacks. */
export type GithubPluginConfig = Omit<GithubSourceOptions, 'readSecret' | 'logger' | 'egress'> & { egress?: EgressOptions };

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    baseUrl: { type: 'string', pattern: '^https?://', description: 'GitHub API base URL (operator.github.apiUrl). Default https://api.github.com.' },
    upstreamArchive: { type: 'string', enum: ['tarball', 'zipball'], description: 'Archive to download. Default tarball.' },
    retries: { type: 'integer', minimum: 0, maximum: 10, description: 'Quick retries of 5xx answers. Default 2.' },
    retryBaseMs: { ...positiveInteger, description: 'Base of the retry delay. Default 500.' },
    requestTimeoutMs: { ...positiveInteger, description: 'Timeout of one API call. Default 30000.' },
    downloadTimeoutMs: { ...positiveInteger, description: 'Timeout of one download. Default 600000.' },
    userAgent: { type: 'string', minLength: 1, description: 'User-Agent of API calls. Default opendepot-operator.' },
    allowedHosts: hostList("When set, hosts the API's redirects may lead to besides its own, exact or *.example.com (operator.allowedGitHosts)."),
    tmpDir: tmpDirSchema,
    limits: limitsSchema,
    rate: rateSchema,
    egress: egressSchema,
  },
} as const;

/** The `github` archive source plugin. */
export const githubArchiveSourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'github',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  create: ({ egress, ...config }: GithubPluginConfig, context: PluginContext) =>
    withOwnEgress(egress, (own) => new GithubArchiveSource({ ...config, egress: own, logger: context.logger, ...(context.readSecret ? { readSecret: hostSecretReader(context) } : {}) })),
});

export default githubArchiveSourcePlugin;

/**
 * For a host that does not scope Secret reads to the Module (a subject without `readSecret`):
 * the plugin context reads its own namespace only. A Secret referenced from another namespace is
 * refused rather than read from the wrong place: a resource must never reach another
 * namespace's credentials.
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
