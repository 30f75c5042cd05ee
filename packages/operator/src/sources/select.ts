/** Which archive source a Module uses, and making one. */
import type { ArchiveSource } from '@opendepot/sdk';
import { GitArchiveSource, type GitSourceOptions } from './git.ts';
import { GithubArchiveSource, type GithubSourceOptions } from './github.ts';
import type { ModuleSourceConfig, ModuleSourceKind } from './subject.ts';

/** Options of every module source, by kind. */
export interface ModuleSourcesOptions {
  github?: GithubSourceOptions;
  git?: GitSourceOptions;
}

/**
 * The source of a module: `moduleConfig.source` when set; else `github` when `repoUrl` is unset
 * (the repository is `repoOwner/name` on GitHub) or on github.com; else `git`.
 */
export function sourceKindFor(config: Pick<ModuleSourceConfig, 'source' | 'repoUrl'>): ModuleSourceKind {
  if (config.source) return config.source;
  if (config.repoUrl === undefined) return 'github';
  const host = hostOf(config.repoUrl);
  return host === 'github.com' || host === 'www.github.com' ? 'github' : 'git';
}

/** Makes the archive source of `kind`. */
export function createModuleSource(kind: ModuleSourceKind, options: ModuleSourcesOptions = {}): ArchiveSource {
  switch (kind) {
    case 'github':
      return new GithubArchiveSource(options.github);
    case 'git':
      return new GitArchiveSource(options.git);
    default:
      throw new TypeError(`unknown module source ${String(kind)}`);
  }
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
