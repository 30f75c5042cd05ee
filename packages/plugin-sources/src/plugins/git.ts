/** The `git` archive source plugin: module versions from the tags of any git remote. */
import { PLUGIN_API_VERSION, definePlugin, type PluginContext } from '@opendepot/sdk';
import type { EgressOptions } from '../egress.ts';
import { releaseGitHome } from '../git-command.ts';
import { GitArchiveSource, type GitSourceOptions } from '../git.ts';
import { withOwnEgress } from './owned-egress.ts';
import { egressSchema, hostList, limitsSchema, positiveInteger, rateSchema, tmpDirSchema } from './schema.ts';

/** Config of the `git` plugin: {@link GitSourceOptions} without the logger. */
export type GitPluginConfig = Omit<GitSourceOptions, 'logger' | 'egress'> & { egress?: EgressOptions };

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allowFileUrls: { type: 'boolean', description: 'Allow file:// remotes and local paths (local setups only; allowFileUrls). Default false.' },
    allowedHosts: hostList('When set, remotes must be on these hosts, exact or *.example.com (operator.allowedGitHosts).'),
    git: { type: 'string', minLength: 1, description: 'The git binary. Default git.' },
    timeoutMs: { ...positiveInteger, description: 'Timeout of one git command. Default 300000.' },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment for git, e.g. GIT_SSH_COMMAND.' },
    tagsCacheMs: {
      type: 'integer',
      minimum: 0,
      description: 'How long one ls-remote answer is shared by all callers for a repository; 0: never (operator.limits.gitTagsCacheSeconds). Default 60000.',
    },
    tmpDir: tmpDirSchema,
    limits: limitsSchema,
    rate: rateSchema,
    egress: egressSchema,
  },
} as const;

/** The `git` archive source plugin. */
export const gitArchiveSourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'git',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  create: ({ egress, ...config }: GitPluginConfig, context: PluginContext) => {
    const source = withOwnEgress(egress, (own) => new GitArchiveSource({ ...config, egress: own, logger: context.logger }));
    // git's empty HOME is made once per process; it goes with the source that used it.
    return { ...source, close: () => source.close!().finally(releaseGitHome) };
  },
});

export default gitArchiveSourcePlugin;
