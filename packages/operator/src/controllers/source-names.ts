/** Which archive source (a plugin of kind `archive-source`, by name) a Module or Provider uses. */
import { PROVIDER_DEFAULTS } from '@opendepot/core';

/**
 * The source of a module: `moduleConfig.source` when set; else `github` when `repoUrl` is unset
 * (the repository is `repoOwner/name` on GitHub) or on github.com; else `git`.
 */
export function moduleSourceName(config: { source?: string; repoUrl?: string }): string {
  if (config.source) return config.source;
  if (config.repoUrl === undefined) return 'github';
  const host = hostOf(config.repoUrl);
  return host === 'github.com' || host === 'www.github.com' ? 'github' : 'git';
}

/** The source of a provider: `providerConfig.source`, else `hashicorp-releases`. */
export function providerSourceName(config: { source?: string }): string {
  return config.source ?? PROVIDER_DEFAULTS.source;
}

/** Host of an https://, ssh:// or scp-like (`git@host:path`) URL, lower case. */
function hostOf(url: string): string | undefined {
  const scp = /^(?:[A-Za-z0-9._~-]+@)?([A-Za-z0-9.-]+):(?!\/\/)/.exec(url);
  if (scp && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return scp[1]?.toLowerCase();
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
