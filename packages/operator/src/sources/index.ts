/** The module archive sources: GitHub releases and any git remote. */
export { GithubArchiveSource, GITHUB_API_URL, type GithubSourceOptions } from './github.ts';
export { DEFAULT_GITHUB_SECRET, GITHUB_SECRET_KEYS, type GithubCredentials, type SecretReader } from './github-client.ts';
export { parseGithubUrl, githubRepoOf, type GithubRepo } from './github-repo.ts';
export { rateLimitWaitMs } from './github-errors.ts';
export { GitArchiveSource, type GitSourceOptions } from './git.ts';
export { Egress, checkHost, parseCidr, type EgressOptions, type HostAllowlist, type HostRule } from './egress.ts';
export { checkGitRemote, hostMatches, type GitRemote, type GitRemotePolicy } from './git-remote.ts';
export { createModuleSource, sourceKindFor, type ModuleSourcesOptions } from './select.ts';
export {
  moduleArchiveSubject,
  moduleArchiveFilename,
  type GithubClientSettings,
  type ModuleSourceConfig,
  type ModuleSourceKind,
  type ModuleSubjectSettings,
} from './subject.ts';
export { versionFromTag, tagCandidates } from './versions.ts';
export { githubArchiveSourcePlugin, gitArchiveSourcePlugin, type GithubPluginConfig, type GitPluginConfig } from './plugins.ts';
export * from './providers/index.ts';
