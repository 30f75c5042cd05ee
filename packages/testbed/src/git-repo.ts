/** Real git repositories for tests of the git archive source, made with the machine's git CLI. */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describeRepoFile, type RepoFiles } from './github-standin.ts';

const run = promisify(execFile);

/** Options of {@link createGitRepo}. */
export interface GitRepoDefinition {
  /** Tag → the complete file tree of the commit it points at, committed in this order. */
  tags: Record<string, RepoFiles>;
  /** Make annotated tags (`git tag -a`) instead of lightweight ones. */
  annotated?: boolean;
}

/** A repository made by {@link createGitRepo}. */
export interface GitRepo {
  dir: string;
  /** `file://` URL of the repository. */
  url: string;
  /** Tag → commit id. */
  commits: Record<string, string>;
}

/**
 * Creates a git repository in `dir` (created if missing) with one commit per tag, each holding
 * exactly that tag's files. Author, committer and dates are fixed, so the same definition always
 * gives the same commit ids.
 */
export async function createGitRepo(dir: string, definition: GitRepoDefinition): Promise<GitRepo> {
  await mkdir(dir, { recursive: true });
  const git = (args: string[], date?: string) =>
    run('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'core.autocrlf=false', ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'OpenDepot Test',
        GIT_AUTHOR_EMAIL: 'test@opendepot.test',
        GIT_COMMITTER_NAME: 'OpenDepot Test',
        GIT_COMMITTER_EMAIL: 'test@opendepot.test',
        ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
      },
    });
  await git(['init', '-q']);
  const commits: Record<string, string> = {};
  let day = 0;
  for (const [tag, files] of Object.entries(definition.tags)) {
    const date = `2024-01-${String(1 + (day++ % 28)).padStart(2, '0')}T12:00:00Z`;
    await clearWorkTree(dir);
    for (const [path, file] of Object.entries(files)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      const described = describeRepoFile(file);
      if ('symlink' in described) await symlink(described.symlink, target);
      else await writeFile(target, described.content, { mode: described.executable ? 0o755 : 0o644 });
    }
    await git(['add', '-A']);
    await git(['commit', '-q', '--allow-empty', '-m', `release ${tag}`], date);
    await git(definition.annotated ? ['tag', '-a', '-m', `tag ${tag}`, tag] : ['tag', tag], date);
    commits[tag] = (await git(['rev-parse', 'HEAD'])).stdout.trim();
  }
  return { dir, url: pathToFileURL(dir).toString(), commits };
}

async function clearWorkTree(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name !== '.git') await rm(join(dir, name), { recursive: true, force: true });
  }
}
