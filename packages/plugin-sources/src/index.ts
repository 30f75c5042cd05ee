/**
 * `@opendepot/plugin-sources`: the first-party archive sources, as plugins of the
 * `archive-source` kind. Each is also its own entry point, the one a `plugins:` entry names:
 * `@opendepot/plugin-sources/github`, `/git`, `/hashicorp-releases` and `/registry`.
 * @packageDocumentation
 */
import { gitArchiveSourcePlugin } from './plugins/git.ts';
import { githubArchiveSourcePlugin } from './plugins/github.ts';
import { hashicorpReleasesSourcePlugin } from './plugins/hashicorp-releases.ts';
import { registrySourcePlugin } from './plugins/registry.ts';

export { githubArchiveSourcePlugin, gitArchiveSourcePlugin, hashicorpReleasesSourcePlugin, registrySourcePlugin };
export type { GithubPluginConfig } from './plugins/github.ts';
export type { GitPluginConfig } from './plugins/git.ts';

/** The four plugins, in the order the README documents them. */
export const FIRST_PARTY_PLUGINS = [githubArchiveSourcePlugin, gitArchiveSourcePlugin, hashicorpReleasesSourcePlugin, registrySourcePlugin] as const;
export type { ProviderPluginConfig } from './plugins/provider-schema.ts';
export { GithubArchiveSource, GITHUB_API_URL, type GithubSourceOptions } from './github.ts';
export { DEFAULT_GITHUB_SECRET, GITHUB_SECRET_KEYS, type GithubCredentials, type SecretReader } from './github-client.ts';
export { parseGithubUrl, githubRepoOf, type GithubRepo } from './github-repo.ts';
export { rateLimitWaitMs } from './github-errors.ts';
export { GitArchiveSource, type GitSourceOptions } from './git.ts';
export { Egress, checkHost, parseCidr, type EgressOptions, type HostAllowlist, type HostRule } from './egress.ts';
export { checkGitRemote, hostMatches, type GitRemote, type GitRemotePolicy } from './git-remote.ts';
export { moduleArchiveFilename } from './subject.ts';
export { versionFromTag, tagCandidates } from './versions.ts';
export * from './providers/index.ts';
