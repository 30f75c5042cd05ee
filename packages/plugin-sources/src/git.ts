/**
 * The `git` archive source: any git remote. Its semver tags are the versions, and a version's
 * archive is the tree at the tag (a depth-1 fetch of the tag into a temporary bare repository,
 * then `git archive`), repacked with the module at its root.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InputError,
  NotFoundError,
  UnavailableError,
  isOpenDepotError,
  type ArchiveSource,
  type ArchiveSubject,
  type FetchOptions,
  type FetchedArchive,
  type ListOptions,
  type Logger,
  type UpstreamVersion,
} from '@opendepot/sdk';
import { repackArchive, type ArchiveLimits, type RepackedArchive } from '@opendepot/archive-kit';
import { Egress, type EgressOptions } from './egress.ts';
import { gitError, runGit, streamGit, type GitRunOptions } from './git-command.ts';
import { checkGitRemote, type GitRemote, type GitRemotePolicy } from './git-remote.ts';
import { SharedTagLists } from './git-tags-cache.ts';
import { DEFAULT_UPSTREAM_RATE, type UpstreamRate } from './upstream-rate.ts';
import { moduleArchiveFilename, redactUrl, subjectSettings } from './subject.ts';
import { isCanonicalVersion, tagCandidates, versionsFromTags } from './versions.ts';

/** Options of {@link GitArchiveSource}. */
export interface GitSourceOptions extends GitRemotePolicy {
  /** The git binary. Default `git` (from PATH). */
  git?: string;
  /** Kill one git command after this long (default 5 min). */
  timeoutMs?: number;
  /** Extra environment for git, e.g. `GIT_SSH_COMMAND` naming a mounted key. */
  env?: Record<string, string>;
  /** Limits of the archive. */
  limits?: Partial<ArchiveLimits>;
  /** Where clones and archives are kept while working; default: the OS temp directory. */
  tmpDir?: string;
  /** Cut an https transfer slower than this (git's http.lowSpeedLimit/lowSpeedTime; operator.limits). */
  rate?: UpstreamRate;
  /** How long one `ls-remote` answer is shared by all callers for the repository (default 60 s; 0: never). */
  tagsCacheMs?: number;
  /** Address policy (private and loopback ranges refused unless allowed); an {@link Egress} to share it. */
  egress?: Egress | EgressOptions;
  logger?: Logger;
}

/** Versions and archives from a git remote. */
export class GitArchiveSource implements ArchiveSource {
  readonly #options: GitSourceOptions;
  readonly #tagLists: SharedTagLists;
  readonly #egress: Egress;

  constructor(options: GitSourceOptions = {}) {
    this.#options = options;
    this.#tagLists = new SharedTagLists(options.tagsCacheMs ?? 60_000);
    this.#egress = options.egress instanceof Egress ? options.egress : new Egress(options.egress);
  }

  /** Tags `v<semver>` or `<semver>` of the remote, ascending (peeled `^{}` lines folded in). */
  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    const remote = this.#remote(subject);
    return versionsFromTags([...(await this.#tags(remote, options.signal))].map((tag) => ({ tag })));
  }

  /** The tree at tag `v<version>` (else `<version>`), as `options.format` (default zip). */
  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const remote = this.#remote(subject);
    const format = options.format ?? 'zip';
    const tags = await this.#tags(remote, options.signal);
    const candidates = tagCandidates(version);
    const tag = candidates.find((t) => tags.has(t));
    if (!tag) {
      throw new NotFoundError(`git remote ${redactUrl(remote.url)} has no tag ${candidates.join(' or ')} (version ${version})`, { field: 'spec.version' });
    }
    const dir = await mkdtemp(join(this.#options.tmpDir ?? tmpdir(), 'opendepot-git-'));
    try {
      const repo = join(dir, 'repo.git');
      const run = this.#runOptions(remote, options.signal, await this.#pinned(remote));
      const what = `fetching tag ${tag} from ${redactUrl(remote.url)}`;
      // An empty template: nothing from the machine's git templates (hooks) lands in the clone.
      await runGit(['init', '--quiet', '--bare', '--template=', repo], run).catch((err: unknown) => Promise.reject(gitError(err, 'git init')));
      await runGit(['-C', repo, 'fetch', '--quiet', '--depth=1', '--no-tags', '--', remote.url, `+refs/tags/${tag}:refs/tags/${tag}`], run).catch((err: unknown) =>
        Promise.reject(gitError(err, what)),
      );
      const repacked = await this.#archive(repo, tag, format, run, dir, options.signal);
      if (repacked.warnings.length > 0) {
        this.#options.logger?.warn('parts of the upstream archive were left out', { remote: redactUrl(remote.url), tag, left_out: repacked.warnings });
      }
      return { body: repacked.body, filename: moduleArchiveFilename(subject, version, format), size: repacked.size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}

  /** `git archive` of the tag, streamed into the repacker; git's own failure wins over a truncated tar. */
  async #archive(repo: string, tag: string, format: 'zip' | 'tar.gz', run: GitRunOptions, dir: string, signal: AbortSignal | undefined): Promise<RepackedArchive> {
    const archive = streamGit(['-C', repo, 'archive', '--format=tar', `refs/tags/${tag}`], run);
    const repacking = repackArchive(archive.stdout, {
      from: 'tar',
      to: format,
      tmpDir: dir,
      ...(signal ? { signal } : {}),
      ...(this.#options.limits ? { limits: this.#options.limits } : {}),
    }).catch((err: unknown) => {
      archive.kill(); // it may be blocked writing to a pipe nobody reads any more
      throw err;
    });
    const [repacked, exited] = await Promise.allSettled([repacking, archive.done]);
    if (exited.status === 'rejected') {
      if (repacked.status === 'fulfilled') repacked.value.body.destroy();
      // A refused archive makes the repacker stop reading, which can make git fail; report the refusal.
      if (repacked.status === 'rejected' && isOpenDepotError(repacked.reason, 'input')) throw repacked.reason;
      throw gitError(exited.reason, `git archive of tag ${tag}`);
    }
    if (repacked.status === 'rejected') throw repacked.reason;
    return repacked.value;
  }

  /** The remote's tags, from one `ls-remote` shared by every caller for a while. */
  #tags(remote: GitRemote, signal: AbortSignal | undefined): Promise<Set<string>> {
    // Not tied to one caller's signal: others share the answer (git's timeout bounds it).
    return this.#tagLists.get(remote.url, () => this.#listTags(remote), signal);
  }

  async #listTags(remote: GitRemote): Promise<Set<string>> {
    let out: string;
    try {
      out = await runGit(['ls-remote', '--tags', '--', remote.url], this.#runOptions(remote, undefined, await this.#pinned(remote)));
    } catch (err) {
      throw gitError(err, `listing the tags of ${redactUrl(remote.url)}`);
    }
    const tags = new Set<string>();
    for (const line of out.split('\n')) {
      const ref = line.split('\t')[1];
      if (!ref?.startsWith('refs/tags/')) continue;
      tags.add(ref.slice('refs/tags/'.length).replace(/\^\{\}$/, ''));
    }
    return tags;
  }

  #remote(subject: ArchiveSubject): GitRemote {
    const url = subject.url ?? subjectSettings(subject).repoUrl;
    if (url === undefined) throw new InputError('the git source needs moduleConfig.repoUrl', { field: 'spec.moduleConfig.repoUrl' });
    return checkGitRemote(url, this.#options);
  }

  /**
   * Resolves the remote's host and refuses a non-public address (unless allowed). For https, git
   * is then pinned to the checked address (curl's resolve list) and follows no redirect, so
   * neither a second DNS answer nor a redirect can lead it elsewhere. ssh remotes are checked
   * here but not pinned: ssh resolves the name again itself (a DNS rebinding window remains).
   */
  async #pinned(remote: GitRemote): Promise<Record<string, string>> {
    if (remote.protocol === 'file' || remote.host === undefined) return {};
    let result: Array<{ address: string; family: number }>;
    try {
      result = await this.#egress.resolve(remote.host, 'spec.moduleConfig.repoUrl');
    } catch (err) {
      if (isOpenDepotError(err)) throw err;
      throw new UnavailableError(`could not resolve the host of ${redactUrl(remote.url)}: ${(err as Error).message}`, { cause: err });
    }
    if (remote.protocol !== 'https') return {};
    const port = new URL(remote.url).port || '443';
    const addresses = result.map(({ address, family }) => (family === 6 ? `[${address}]` : address)).join(',');
    return {
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.curloptResolve',
      GIT_CONFIG_VALUE_0: `${remote.host}:${port}:${addresses}`,
      GIT_CONFIG_KEY_1: 'http.followRedirects',
      GIT_CONFIG_VALUE_1: 'false',
    };
  }

  #runOptions(remote: GitRemote, signal: AbortSignal | undefined, pinned: Record<string, string> = {}): GitRunOptions {
    const env = { ...this.#options.env, ...pinned };
    return {
      git: this.#options.git ?? 'git',
      allowFile: remote.protocol === 'file',
      timeoutMs: this.#options.timeoutMs ?? 300_000,
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(signal ? { signal } : {}),
      lowSpeed: lowSpeedOf(this.#options.rate ?? DEFAULT_UPSTREAM_RATE),
    };
  }
}

/** git's http.lowSpeed* settings for a rate: the same idle window and minimum rate as HTTP bodies. */
function lowSpeedOf(rate: UpstreamRate): { bytesPerSecond: number; seconds: number } {
  return { bytesPerSecond: rate.minBytesPerSecond, seconds: rate.idleTimeoutMs / 1000 };
}
