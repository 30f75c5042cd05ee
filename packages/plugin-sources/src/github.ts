/**
 * The `github` archive source: a repository's releases are its versions, and a version's archive
 * is the tag's tarball (or zipball), repacked with the module at its root.
 */
import { InputError, NotFoundError, type ArchiveSource, type ArchiveSubject, type FetchOptions, type FetchedArchive, type ListOptions, type Logger, type UpstreamVersion } from '@opendepot/sdk';
import { repackArchive, type ArchiveLimits } from '@opendepot/archive-kit';
import { Egress, checkHost, hostOfUrl, type EgressOptions } from './egress.ts';
import { GithubClients, type GithubClient, type SecretReader } from './github-client.ts';
import { githubError, statusOf } from './github-errors.ts';
import { githubRepoOf, type GithubRepo } from './github-repo.ts';
import { moduleArchiveFilename, subjectSettings } from './subject.ts';
import { isCanonicalVersion, tagCandidates, versionsFromTags } from './versions.ts';
import { DEFAULT_UPSTREAM_RATE, RateWatch, metered, type UpstreamRate } from './upstream-rate.ts';

/** Options of {@link GithubArchiveSource}. */
export interface GithubSourceOptions {
  /** GitHub API base URL. Default `https://api.github.com`; GitHub Enterprise: `https://HOST/api/v3`. */
  baseUrl?: string;
  /** Which upstream archive to download: `tarball` (default; streams) or `zipball`. */
  upstreamArchive?: 'tarball' | 'zipball';
  /**
   * Hosts the API's redirects (archive downloads go to codeload.github.com) may lead to, besides
   * the API's own host: `operator.allowedGitHosts`. Unset: any https host.
   */
  allowedHosts?: readonly string[];
  /** Address policy (private and loopback ranges refused unless allowed); an {@link Egress} to share its connections. */
  egress?: Egress | EgressOptions;
  /** Reads GitHub credentials from Secrets, for modules with `useAuthenticatedClient`. */
  readSecret?: SecretReader;
  /** Quick retries of 5xx answers inside one call (default 2); longer waits are the queue's job. */
  retries?: number;
  /** Base of the retry delay: retry n waits n² × this (default 500 ms). */
  retryBaseMs?: number;
  /** Timeout of one API call, or of listing all release pages (default 30 s). */
  requestTimeoutMs?: number;
  /** Timeout of one archive download (default 10 min). */
  downloadTimeoutMs?: number;
  /** Limits of the upstream archive. */
  limits?: Partial<ArchiveLimits>;
  /** Idle timeout and minimum rate of an archive download (operator.limits). */
  rate?: UpstreamRate;
  /** Where archives are spooled while repacked; default: the OS temp directory. */
  tmpDir?: string;
  userAgent?: string;
  logger?: Logger;
}

/** Default GitHub API base URL. */
export const GITHUB_API_URL = 'https://api.github.com';

/** Versions and archives from GitHub releases. */
export class GithubArchiveSource implements ArchiveSource {
  readonly #clients: GithubClients;
  readonly #options: GithubSourceOptions;
  readonly #baseUrl: string;

  constructor(options: GithubSourceOptions = {}) {
    this.#options = options;
    this.#baseUrl = (options.baseUrl ?? GITHUB_API_URL).replace(/\/+$/, '');
    const egress = options.egress instanceof Egress ? options.egress : new Egress(options.egress);
    // http:// only when the configured API itself is (a local stand-in).
    const schemes = new URL(this.#baseUrl).protocol === 'http:' ? ['https:', 'http:'] : ['https:'];
    const rule = { allowlists: [{ key: 'operator.allowedGitHosts', hosts: options.allowedHosts }], alsoAllowed: hostOfUrl(this.#baseUrl) };
    const guarded = egress.fetch((url, from) => {
      const what = from ? `GitHub's redirect from ${from.host}` : 'a GitHub request';
      if (!schemes.includes(url.protocol)) throw new InputError(`${what} to ${url.protocol}// is refused: only https:// is allowed`);
      checkHost(url, rule, what);
    });
    this.#clients = new GithubClients({
      baseUrl: this.#baseUrl,
      userAgent: options.userAgent ?? 'opendepot-operator',
      retries: options.retries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 500,
      fetch: guarded,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** Non-draft releases whose tag is `v<semver>` or `<semver>`, ascending. */
  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    const repo = githubRepoOf(subject);
    const client = await this.#client(subject);
    const signal = withTimeout(options.signal, this.#options.requestTimeoutMs ?? 30_000);
    try {
      const releases = await listAllReleases(client, repo, signal);
      return versionsFromTags(releases.filter((r) => !r.draft).map((r) => ({ tag: r.tag_name, ...(r.published_at ? { publishedAt: r.published_at } : {}) })));
    } catch (err) {
      if (statusOf(err) === 404) throw this.#repoNotFound(repo, err);
      throw githubError(err, `the releases of ${repo.owner}/${repo.repo}`, options.signal);
    }
  }

  /** The archive of tag `v<version>`, else `<version>`, repacked into `options.format` (default zip). */
  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const repo = githubRepoOf(subject);
    const format = options.format ?? 'zip';
    const kind = this.#options.upstreamArchive ?? 'tarball';
    const client = await this.#client(subject);
    const tried: string[] = [];
    for (const tag of tagCandidates(version)) {
      // The rate watch cuts an archive that idles or drips (and tears its connection down).
      const watch = new RateWatch(this.#options.rate ?? DEFAULT_UPSTREAM_RATE, `the ${kind} of ${repo.owner}/${repo.repo} at ${tag}`);
      const signal = AbortSignal.any([withTimeout(options.signal, this.#options.downloadTimeoutMs ?? 600_000), watch.signal]);
      let body: AsyncIterable<Uint8Array>;
      try {
        const response = await client.request('GET /repos/{owner}/{repo}/{archive_format}/{ref}', {
          ...repo,
          archive_format: kind,
          ref: tag,
          // Keep the body a stream: archives can be large.
          request: { signal, parseSuccessResponseBody: false },
        });
        watch.restart();
        body = metered(response.data as unknown as AsyncIterable<Uint8Array>, watch);
      } catch (err) {
        watch.stop();
        if (watch.signal.aborted) throw watch.signal.reason;
        if (statusOf(err) === 404) {
          tried.push(tag);
          continue;
        }
        throw githubError(err, `the ${kind} of ${repo.owner}/${repo.repo} at ${tag}`, options.signal);
      }
      const repacked = await repackArchive(body, {
        from: kind === 'tarball' ? 'tar.gz' : 'zip',
        to: format,
        stripTopLevelDir: true,
        signal,
        ...(this.#options.limits ? { limits: this.#options.limits } : {}),
        ...(this.#options.tmpDir ? { tmpDir: this.#options.tmpDir } : {}),
      });
      if (repacked.warnings.length > 0) {
        this.#options.logger?.warn('parts of the upstream archive were left out', { repository: `${repo.owner}/${repo.repo}`, tag, left_out: repacked.warnings });
      }
      return { body: repacked.body, filename: moduleArchiveFilename(subject, version, format), size: repacked.size };
    }
    throw new NotFoundError(`GitHub repository ${repo.owner}/${repo.repo} has no tag ${tried.join(' or ')} (version ${version}); tried the ${kind} of each`, { field: 'spec.version' });
  }

  async close(): Promise<void> {}

  async #client(subject: ArchiveSubject): Promise<GithubClient> {
    const settings = subjectSettings(subject);
    // The host's reader, scoped to the Module's namespace, wins over one given to the constructor.
    const configured = this.#options.readSecret;
    const read = subject.readSecret?.bind(subject) ?? (configured && ((name: string, key: string) => configured(name, key, settings.namespace)));
    return this.#clients.forConfig(settings.githubClientConfig, read, settings.namespace);
  }

  #repoNotFound(repo: GithubRepo, cause: unknown): NotFoundError {
    return new NotFoundError(
      `GitHub repository ${repo.owner}/${repo.repo} was not found at ${this.#baseUrl} (a private repository needs githubClientConfig.useAuthenticatedClient and credentials that can read it)`,
      { cause, field: 'spec.moduleConfig.repoUrl' },
    );
  }
}

/** A bound on release pages (100 each), in case an upstream never ends its list. */
const MAX_RELEASE_PAGES = 1000;

/**
 * Every release, page by page along the `Link: rel="next"` chain. Not octokit's `paginate`: it
 * drops the request options, so neither the caller's abort nor the timeout reached its requests.
 */
async function listAllReleases(client: GithubClient, repo: GithubRepo, signal: AbortSignal) {
  const releases = [];
  for (let page = 1; page <= MAX_RELEASE_PAGES; page++) {
    const response = await client.rest.repos.listReleases({ ...repo, per_page: 100, page, request: { signal } });
    releases.push(...response.data);
    if (!/rel="next"/.test(response.headers.link ?? '')) break;
  }
  return releases;
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
