/** Which GitHub repository a subject names. */
import { InputError, type ArchiveSubject } from '@opendepot/sdk';
import { redactUrl, subjectSettings } from './subject.ts';

/** A GitHub repository. */
export interface GithubRepo {
  owner: string;
  repo: string;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * The repository of `subject`: from `repoUrl` (`https://github.com/owner/repo[.git]`,
 * `ssh://git@github.com/owner/repo.git`, `git@github.com:owner/repo.git`), else
 * `https://github.com/<repoOwner>/<name>`.
 */
export function githubRepoOf(subject: ArchiveSubject): GithubRepo {
  const settings = subjectSettings(subject);
  const url = subject.url ?? settings.repoUrl;
  if (url !== undefined) return parseGithubUrl(url);
  const owner = subject.namespace ?? settings.repoOwner;
  if (owner === undefined) {
    throw new InputError('the module names no GitHub repository: set moduleConfig.repoUrl, or moduleConfig.repoOwner for https://github.com/<repoOwner>/<name>', {
      field: 'spec.moduleConfig.repoOwner',
    });
  }
  return checked(owner, subject.name, `${owner}/${subject.name}`, 'spec.moduleConfig.repoOwner');
}

/** Parses a GitHub repository URL (any host: GitHub Enterprise has its own). */
export function parseGithubUrl(url: string): GithubRepo {
  let path: string | undefined;
  const scp = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)(.+)$/.exec(url);
  if (scp) {
    path = scp[1];
  } else {
    try {
      const parsed = new URL(url);
      if (['https:', 'http:', 'ssh:'].includes(parsed.protocol)) path = parsed.pathname;
    } catch {
      path = undefined;
    }
  }
  const parts = path
    ?.replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/, '')
    .split('/');
  if (parts?.length !== 2) {
    throw new InputError(`moduleConfig.repoUrl "${redactUrl(url)}" is not a GitHub repository URL such as https://github.com/<owner>/<repo>`, {
      field: 'spec.moduleConfig.repoUrl',
    });
  }
  return checked(parts[0] ?? '', parts[1] ?? '', redactUrl(url), 'spec.moduleConfig.repoUrl');
}

function checked(owner: string, repo: string, shown: string, field: string): GithubRepo {
  if (!OWNER.test(owner) || !NAME.test(repo) || repo === '.' || repo === '..') {
    throw new InputError(`"${shown}" does not name a GitHub repository <owner>/<repo>`, { field });
  }
  return { owner, repo };
}
