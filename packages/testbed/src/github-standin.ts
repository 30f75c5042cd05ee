/**
 * A local stand-in for the parts of the GitHub REST API that OpenDepot uses: releases (paginated
 * with `Link` headers), tarball/zipball downloads (a 302 to a codeload-like route, as GitHub does),
 * release by tag, `/rate_limit`, and GitHub App installation tokens. Responses follow GitHub's
 * shapes and headers (rate-limit headers on every answer). Faults and rate limits can be switched
 * on for tests. Repositories live in memory and are defined from file trees.
 */
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';

/** One file of a repository tree: its content, or a symbolic link. */
export type RepoFile = string | Uint8Array | { content: string | Uint8Array; executable?: boolean } | { symlink: string };

/** A repository tree: path (with `/`) → file. */
export type RepoFiles = Record<string, RepoFile>;

/** A release of a stand-in repository; its tag points at a commit holding `files`. */
export interface StandinRelease {
  tag: string;
  files: RepoFiles;
  name?: string;
  draft?: boolean;
  prerelease?: boolean;
  /** ISO 8601; default: a fixed time that grows with each release. */
  publishedAt?: string;
}

/** A stand-in repository. */
export interface StandinRepo {
  releases?: StandinRelease[];
  /** Tags without a release. */
  tags?: Record<string, RepoFiles>;
}

/** A rate-limit mode: `primary` answers 403 with `x-ratelimit-remaining: 0`; `secondary` answers with `retry-after`. */
export type RateLimitMode = { kind: 'primary'; resetInSeconds?: number } | { kind: 'secondary'; retryAfterSeconds?: number; status?: 403 | 429 };

/** A request the stand-in answered. */
export interface StandinRequest {
  method: string;
  /** Path and query, e.g. `/repos/o/r/releases?per_page=100&page=2`. */
  url: string;
  /** The `Authorization` header as sent, if any. */
  authorization: string | undefined;
  status: number;
}

/** Options of {@link startGithubStandin}. */
export interface GithubStandinOptions {
  /** When set, API calls must carry `Authorization: token|Bearer <token>` (or an App installation token). */
  token?: string;
  /** Requests allowed per hour before the stand-in answers like an exhausted rate limit. Default 5000. */
  rateLimitPerHour?: number;
  /** Port; default: a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1 (the cluster suite uses the node's bridge address, so pods reach it). */
  host?: string;
}

/** A GitHub App the stand-in accepts JWTs from. */
export interface StandinApp {
  appId: number | string;
  installationId: number | string;
  /** PEM public key matching the App's private key. */
  publicKey: string;
}

/** A running stand-in. */
export interface GithubStandin {
  /** API base URL, e.g. `http://127.0.0.1:41234` (use it as octokit's `baseUrl`). */
  readonly url: string;
  /** Every request answered, oldest first. */
  readonly requests: StandinRequest[];
  addRepo(owner: string, repo: string, definition?: StandinRepo): void;
  addRelease(owner: string, repo: string, release: StandinRelease): void;
  addTag(owner: string, repo: string, tag: string, files: RepoFiles): void;
  addApp(app: StandinApp): void;
  /** The next `count` requests are answered with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Answer every API request as rate limited, until called with `false`. */
  setRateLimited(mode: RateLimitMode | false): void;
  /** Send each archive download's second half `ms` after its first (0: at once), like a slow upstream. */
  stallArchives(ms: number): void;
  close(): Promise<void>;
}

interface Commit {
  sha: string;
  files: RepoFiles;
  date: Date;
}

interface ReleaseRecord {
  id: number;
  tag: string;
  name: string;
  draft: boolean;
  prerelease: boolean;
  createdAt: string;
  publishedAt: string | null;
}

interface RepoRecord {
  owner: string;
  repo: string;
  releases: ReleaseRecord[];
  tags: Map<string, Commit>;
}

const API_VERSION = '2022-11-28';
const BASE_DATE = Date.UTC(2024, 0, 1);
const DOCS = 'https://docs.github.com/rest';

/** Starts a GitHub REST API stand-in on 127.0.0.1. */
export async function startGithubStandin(options: GithubStandinOptions = {}): Promise<GithubStandin> {
  const repos = new Map<string, RepoRecord>();
  const apps = new Map<string, { app: StandinApp; key: KeyObject }>();
  const installationTokens = new Set<string>();
  const downloadTokens = new Set<string>();
  const requests: StandinRequest[] = [];
  const limit = options.rateLimitPerHour ?? 5000;
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  let used = 0;
  let releaseIds = 1000;
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let rateLimited: RateLimitMode | false = false;
  let url = '';
  let archiveStallMs = 0;

  const repoKey = (owner: string, repo: string) => `${owner}/${repo}`.toLowerCase();
  const mustRepo = (owner: string, repo: string): RepoRecord => {
    const record = repos.get(repoKey(owner, repo));
    if (!record) throw new Error(`stand-in repository ${owner}/${repo} does not exist; call addRepo first`);
    return record;
  };

  function addTag(owner: string, repo: string, tag: string, files: RepoFiles): void {
    const record = mustRepo(owner, repo);
    const date = new Date(BASE_DATE + record.tags.size * 86_400_000);
    const sha = createHash('sha1')
      .update(`${owner}/${repo}@${tag}\n`)
      .update(JSON.stringify(serialisable(files)))
      .digest('hex');
    record.tags.set(tag, { sha, files, date });
  }

  function addRelease(owner: string, repo: string, release: StandinRelease): void {
    const record = mustRepo(owner, repo);
    addTag(owner, repo, release.tag, release.files);
    const createdAt = new Date(BASE_DATE + record.releases.length * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const draft = release.draft ?? false;
    record.releases.push({
      id: releaseIds++,
      tag: release.tag,
      name: release.name ?? release.tag,
      draft,
      prerelease: release.prerelease ?? false,
      createdAt,
      publishedAt: draft ? null : (release.publishedAt ?? createdAt),
    });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { message: `stand-in error: ${(err as Error).message}` });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: StandinRequest = { method: req.method ?? 'GET', url: req.url ?? '/', authorization: req.headers.authorization, status: 0 };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const target = new URL(req.url ?? '/', url);
    const path = target.pathname;
    const segments = path.split('/').slice(1).map(decodeURIComponent);

    if (failures.count > 0) {
      failures.count--;
      rateHeaders(res, false);
      json(res, failures.status, { message: failures.status >= 500 ? 'Server Error' : 'Error' });
      return;
    }
    // Codeload-like downloads are not API calls: no rate limit, a one-time token instead of a header.
    if (segments[0] === 'codeload') return codeload(res, segments.slice(1), target);
    if (path === '/rate_limit') {
      rateHeaders(res, false);
      const core = { limit, used, remaining: Math.max(0, limit - used), reset: resetAt };
      json(res, 200, { resources: { core: { ...core, resource: 'core' }, search: { limit: 30, used: 0, remaining: 30, reset: resetAt, resource: 'search' } }, rate: { ...core, resource: 'core' } });
      return;
    }
    used++;
    if (rateLimited) return rateLimitResponse(res, rateLimited);
    if (used > limit) return rateLimitResponse(res, { kind: 'primary', resetInSeconds: resetAt - Math.floor(Date.now() / 1000) });

    if (req.method === 'POST' && segments[0] === 'app' && segments[1] === 'installations' && segments[3] === 'access_tokens') {
      return installationToken(req, res, segments[2] ?? '');
    }
    const auth = checkAuth(req.headers.authorization);
    rateHeaders(res, true);
    if (auth === 'bad') return json(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    if (auth === 'missing') return notFound(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });

    // Pagination links name the repository by id, as GitHub's do.
    if (segments[0] === 'repositories' && segments[2] === 'releases' && segments.length === 3) {
      const record = [...repos.values()].find((r) => String(repoId(r)) === segments[1]);
      return record ? listReleases(res, record, target) : notFound(res);
    }
    if (segments[0] !== 'repos' || segments.length < 4) return notFound(res);
    const [, owner = '', repo = '', resource, ...rest] = segments;
    const record = repos.get(repoKey(owner, repo));
    if (!record) return notFound(res);
    if (resource === 'releases' && rest.length === 0) return listReleases(res, record, target);
    if (resource === 'releases' && rest[0] === 'tags' && rest.length >= 2) {
      const release = record.releases.find((r) => r.tag === rest.slice(1).join('/') && !r.draft);
      return release ? json(res, 200, releaseJson(record, release)) : notFound(res);
    }
    if ((resource === 'tarball' || resource === 'zipball') && rest.length >= 1) {
      const ref = rest.join('/');
      if (!record.tags.has(ref)) return notFound(res);
      const kind = resource === 'tarball' ? 'legacy.tar.gz' : 'legacy.zip';
      const location = new URL(`/codeload/${enc(record.owner)}/${enc(record.repo)}/${kind}/refs/tags/${ref.split('/').map(enc).join('/')}`, url);
      if (options.token !== undefined) {
        const token = randomBytes(16).toString('hex');
        downloadTokens.add(token);
        location.searchParams.set('token', token);
      }
      res.writeHead(302, { location: location.toString(), 'content-length': '0' });
      res.end();
      return;
    }
    return notFound(res);
  }

  function checkAuth(header: string | undefined): 'ok' | 'missing' | 'bad' {
    const presented = header?.match(/^(?:token|bearer)\s+(\S+)$/i)?.[1];
    if (options.token === undefined) return 'ok';
    if (presented === undefined) return 'missing';
    return presented === options.token || installationTokens.has(presented) ? 'ok' : 'bad';
  }

  function listReleases(res: ServerResponse, record: RepoRecord, target: URL): void {
    const perPage = Math.min(100, Math.max(1, Number(target.searchParams.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(target.searchParams.get('page') ?? 1) || 1);
    const all = [...record.releases].reverse(); // newest first, as GitHub lists them
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const links: string[] = [];
    const pageUrl = (n: number) => {
      const u = new URL(`/repositories/${repoId(record)}/releases`, url);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(n));
      return u.toString();
    };
    if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`);
    if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
    if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`);
    if (links.length > 0) res.setHeader('link', links.join(', '));
    json(
      res,
      200,
      all.slice((page - 1) * perPage, page * perPage).map((r) => releaseJson(record, r)),
    );
  }

  function releaseJson(record: RepoRecord, r: ReleaseRecord): Record<string, unknown> {
    const api = `${url}/repos/${record.owner}/${record.repo}`;
    return {
      url: `${api}/releases/${r.id}`,
      assets_url: `${api}/releases/${r.id}/assets`,
      upload_url: `https://uploads.github.com/repos/${record.owner}/${record.repo}/releases/${r.id}/assets{?name,label}`,
      html_url: `https://github.com/${record.owner}/${record.repo}/releases/tag/${r.tag}`,
      id: r.id,
      author: { login: record.owner, id: 1, node_id: 'MDQ6VXNlcjE=', type: 'User', site_admin: false },
      node_id: Buffer.from(`RE_${r.id}`).toString('base64'),
      tag_name: r.tag,
      target_commitish: 'main',
      name: r.name,
      draft: r.draft,
      immutable: false,
      prerelease: r.prerelease,
      created_at: r.createdAt,
      updated_at: r.createdAt,
      published_at: r.publishedAt,
      assets: [],
      tarball_url: `${api}/tarball/${r.tag}`,
      zipball_url: `${api}/zipball/${r.tag}`,
      body: '',
    };
  }

  async function codeload(res: ServerResponse, segments: string[], target: URL): Promise<void> {
    // codeload/<owner>/<repo>/<legacy.tar.gz|legacy.zip>/refs/tags/<tag...>
    const [owner = '', repo = '', kind, refs, tags, ...tagParts] = segments;
    const record = repos.get(repoKey(owner, repo));
    const tag = tagParts.join('/');
    const commit = record?.tags.get(tag);
    if (options.token !== undefined) {
      const token = target.searchParams.get('token') ?? '';
      if (!downloadTokens.delete(token)) return plain(res, 404, '404: Not Found');
    }
    if (!record || !commit || refs !== 'refs' || tags !== 'tags' || (kind !== 'legacy.tar.gz' && kind !== 'legacy.zip')) {
      return plain(res, 404, '404: Not Found');
    }
    const top = `${record.owner}-${record.repo}-${commit.sha.slice(0, 7)}`;
    const ext = kind === 'legacy.zip' ? 'zip' : 'tar.gz';
    res.writeHead(200, {
      'content-type': kind === 'legacy.zip' ? 'application/zip' : 'application/x-gzip',
      'content-disposition': `attachment; filename=${top}.${ext}`,
      etag: `"${commit.sha}"`,
    });
    const body = kind === 'legacy.zip' ? zipball(top, commit) : tarball(top, commit);
    if (archiveStallMs > 0) {
      // A slow upstream: half the archive, a pause, then the rest.
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      res.write(bytes.subarray(0, bytes.length >> 1));
      await new Promise((r) => setTimeout(r, archiveStallMs));
      res.end(bytes.subarray(bytes.length >> 1));
      return;
    }
    body.pipe(res);
    await new Promise<void>((resolve, reject) => {
      res.on('close', resolve);
      body.on('error', reject);
    });
  }

  function installationToken(req: IncomingMessage, res: ServerResponse, installationId: string): void {
    rateHeaders(res, true);
    const jwt = req.headers.authorization?.match(/^bearer\s+(\S+)$/i)?.[1];
    const claims = jwt ? verifyAppJwt(jwt, apps) : undefined;
    if (!claims) return json(res, 401, { message: 'A JSON web token could not be decoded', documentation_url: DOCS, status: '401' });
    if (String(claims.app.installationId) !== installationId) return notFound(res);
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    installationTokens.add(token);
    json(res, 201, {
      token,
      expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { contents: 'read', metadata: 'read' },
      repository_selection: 'all',
    });
  }

  function rateHeaders(res: ServerResponse, counted: boolean): void {
    res.setHeader('x-ratelimit-limit', String(limit));
    res.setHeader('x-ratelimit-remaining', String(Math.max(0, limit - used)));
    res.setHeader('x-ratelimit-reset', String(resetAt));
    res.setHeader('x-ratelimit-used', String(counted ? Math.min(used, limit) : used));
    res.setHeader('x-ratelimit-resource', 'core');
    res.setHeader('x-github-api-version-selected', API_VERSION);
    res.setHeader('x-github-media-type', 'github.v3; format=json');
    res.setHeader('x-github-request-id', randomBytes(8).toString('hex').toUpperCase());
  }

  function rateLimitResponse(res: ServerResponse, mode: RateLimitMode): void {
    rateHeaders(res, true);
    if (mode.kind === 'primary') {
      const reset = Math.floor(Date.now() / 1000) + (mode.resetInSeconds ?? 60);
      res.setHeader('x-ratelimit-remaining', '0');
      res.setHeader('x-ratelimit-reset', String(reset));
      json(res, 403, {
        message: "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
        documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
      });
      return;
    }
    res.setHeader('retry-after', String(mode.retryAfterSeconds ?? 60));
    json(res, mode.status ?? 429, {
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
      documentation_url: 'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  return {
    stallArchives(ms: number) {
      archiveStallMs = ms;
    },
    get url() {
      return url;
    },
    requests,
    addRepo(owner, repo, definition = {}) {
      repos.set(repoKey(owner, repo), { owner, repo, releases: [], tags: new Map() });
      for (const [tag, files] of Object.entries(definition.tags ?? {})) addTag(owner, repo, tag, files);
      for (const release of definition.releases ?? []) addRelease(owner, repo, release);
    },
    addRelease,
    addTag,
    addApp(app) {
      apps.set(String(app.appId), { app, key: createPublicKey(app.publicKey) });
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    setRateLimited(mode) {
      rateLimited = mode;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function notFound(res: ServerResponse): void {
  json(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function repoId(record: RepoRecord): number {
  return createHash('sha1').update(`${record.owner}/${record.repo}`).digest().readUInt32BE(0) >>> 1;
}

function verifyAppJwt(jwt: string, apps: Map<string, { app: StandinApp; key: KeyObject }>): { app: StandinApp } | undefined {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return undefined;
  let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
  try {
    const alg = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    if (alg.alg !== 'RS256') return undefined;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  const entry = apps.get(String(claims.iss));
  if (!entry) return undefined;
  const ok = verify('sha256', Buffer.from(`${header}.${payload}`), entry.key, Buffer.from(signature, 'base64url'));
  const now = Math.floor(Date.now() / 1000);
  if (!ok || typeof claims.exp !== 'number' || claims.exp < now) return undefined;
  return { app: entry.app };
}

function serialisable(files: RepoFiles): unknown {
  return Object.entries(files).map(([path, file]) => {
    if (typeof file === 'string') return [path, file];
    if (file instanceof Uint8Array) return [path, Buffer.from(file).toString('base64')];
    if ('symlink' in file) return [path, { symlink: file.symlink }];
    return [path, Buffer.from(file.content).toString('base64'), file.executable ?? false];
  });
}

/** The file's bytes and mode, or its link target. */
export function describeRepoFile(file: RepoFile): { content: Buffer; executable: boolean } | { symlink: string } {
  if (typeof file === 'string') return { content: Buffer.from(file), executable: false };
  if (file instanceof Uint8Array) return { content: Buffer.from(file), executable: false };
  if ('symlink' in file) return { symlink: file.symlink };
  return { content: Buffer.from(file.content), executable: file.executable ?? false };
}

/** The directories that hold `paths`, parents first, in first-seen order. */
function directoriesOf(paths: string[]): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        dirs.push(dir);
      }
    }
  }
  return dirs;
}

/** A gzip tarball like GitHub's: a pax global header with the commit, then `<top>/...`, modes 0664/0775. */
function tarball(top: string, commit: Commit): Readable {
  const pack = tar.pack();
  const common = { mtime: commit.date, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  pack.entry({ ...common, name: `${top}/`, type: 'directory', mode: 0o775 });
  const paths = Object.keys(commit.files);
  for (const dir of directoriesOf(paths)) pack.entry({ ...common, name: `${top}/${dir}/`, type: 'directory', mode: 0o775 });
  for (const path of paths) {
    const file = describeRepoFile(commit.files[path] as RepoFile);
    if ('symlink' in file) pack.entry({ ...common, name: `${top}/${path}`, type: 'symlink', linkname: file.symlink, mode: 0o777 });
    else pack.entry({ ...common, name: `${top}/${path}`, type: 'file', mode: file.executable ? 0o775 : 0o664 }, file.content);
  }
  pack.finalize();
  const out = new PassThrough();
  out.write(paxGlobalHeader(commit.sha, commit.date));
  (pack as unknown as Readable).pipe(out);
  return out.pipe(createGzip());
}

/** A zipball like GitHub's: `<top>/` directory entries, unix modes, the commit as the zip comment. */
function zipball(top: string, commit: Commit): Readable {
  const zip = new yazl.ZipFile();
  const options = { mtime: commit.date };
  zip.addEmptyDirectory(`${top}/`, options);
  const paths = Object.keys(commit.files);
  for (const dir of directoriesOf(paths)) zip.addEmptyDirectory(`${top}/${dir}/`, { ...options, mode: 0o40775 });
  for (const path of paths) {
    const file = describeRepoFile(commit.files[path] as RepoFile);
    if ('symlink' in file) zip.addBuffer(Buffer.from(file.symlink), `${top}/${path}`, { ...options, mode: 0o120777 });
    else zip.addBuffer(file.content, `${top}/${path}`, { ...options, mode: file.executable ? 0o100775 : 0o100664 });
  }
  zip.end({ comment: commit.sha, forceZip64Format: false });
  return zip.outputStream as unknown as Readable;
}

/** A pax global extended header (typeflag `g`), as `git archive` writes it, carrying the commit id. */
function paxGlobalHeader(sha: string, date: Date): Buffer {
  const record = (body: string) => {
    // The length prefix counts itself.
    let length = body.length + 2;
    while (`${length} ${body}`.length !== length) length = `${length} ${body}`.length;
    return `${length} ${body}`;
  };
  const data = Buffer.from(record(`comment=${sha}\n`));
  const header = Buffer.alloc(512);
  header.write('pax_global_header', 0);
  header.write('0000666\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write(
    `${Math.floor(date.getTime() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  header.write('        ', 148);
  header.write('g', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}
