import { generateKeyPairSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError, isPlugin, type ArchiveSubject, type Logger, type UnavailableError } from '@opendepot/sdk';
import { freePort, startGithubStandin, type GithubStandin, type StandinRelease } from '@opendepot/testbed';
import { moduleArchiveSubject } from '@opendepot/archive-kit';
import { GithubArchiveSource, githubArchiveSourcePlugin, parseGithubUrl, type GithubSourceOptions, type SecretReader } from '../src/index.ts';
import { collect, filesOf, readTarGz, readZip, sha256 } from '@opendepot/testbed';

const OWNER = 'acme';
const REPO = 'terraform-aws-vpc';
const files = (version: string) => ({
  'main.tf': `# version ${version}\nresource "null_resource" "x" {}\n`,
  'modules/sub/variables.tf': 'variable "cidr" {}\n',
  'scripts/check.sh': { content: '#!/bin/sh\nexit 0\n', executable: true },
  'README.md': { symlink: 'docs/readme.md' },
  'docs/readme.md': '# VPC\n',
});

let standin: GithubStandin;
const subject = moduleArchiveSubject({ name: REPO, provider: 'aws', repoUrl: `https://github.com/${OWNER}/${REPO}` });

function source(options: GithubSourceOptions = {}, target: GithubStandin = standin): GithubArchiveSource {
  return new GithubArchiveSource({ baseUrl: target.url, retries: 1, retryBaseMs: 1, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] }, ...options });
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  standin = await startGithubStandin();
  const releases: StandinRelease[] = [];
  for (let i = 0; i < 230; i++) releases.push({ tag: `v1.${i}.0`, files: files(`1.${i}.0`), draft: i % 50 === 7 });
  releases.push({ tag: '2.0.0', files: files('2.0.0') });
  releases.push({ tag: 'v3.0.0-rc.1', files: files('3.0.0-rc.1'), prerelease: true });
  releases.push({ tag: 'nightly', files: files('nightly') });
  releases.push({ tag: 'v4.0', files: files('4.0') });
  standin.addRepo(OWNER, REPO, { releases });
  standin.addRepo(OWNER, 'evil-module', { releases: [{ tag: 'v1.0.0', files: { 'main.tf': 'x', '../../escape.tf': 'evil' } }] });
});

test.after(async () => {
  await standin.close();
});

test('listVersions reads every page of releases, skips drafts and non-semver tags, and strips the v', async () => {
  const before = standin.requests.length;
  const versions = await source().listVersions(subject);
  const pages = standin.requests.slice(before).filter((r) => r.url.includes('/releases'));
  assert.is(pages.length, 3, pages.map((p) => p.url).join('\n'));
  assert.match(pages[0]?.url ?? '', /per_page=100/);
  const list = versions.map((v) => v.version);
  const drafts = [7, 57, 107, 157, 207].map((i) => `1.${i}.0`);
  assert.is(list.length, 230 - drafts.length + 2);
  for (const draft of drafts) assert.not.ok(list.includes(draft), `draft ${draft} listed`);
  assert.ok(list.includes('2.0.0') && list.includes('3.0.0-rc.1') && list.includes('1.229.0'));
  assert.not.ok(list.some((v) => v.startsWith('v') || v === 'nightly' || v === '4.0'));
  assert.is(list[0], '1.0.0');
  assert.is(list.at(-1), '3.0.0-rc.1');
  const first = versions[0];
  assert.is(first?.ref, 'v1.0.0');
  assert.match(first?.publishedAt ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.is(versions.find((v) => v.version === '2.0.0')?.ref, undefined);
});

test('fetch repacks the tag tarball into a zip with the module at its root', async () => {
  const archive = await source().fetch(subject, '1.2.0', { format: 'zip' });
  assert.is(archive.filename, `${REPO}-1.2.0.zip`);
  const bytes = await collect(archive.body);
  assert.is(archive.size, bytes.length);
  const entries = await readZip(bytes);
  assert.equal(filesOf(entries), {
    'README.md': '# VPC\n',
    'docs/readme.md': '# VPC\n',
    'main.tf': '# version 1.2.0\nresource "null_resource" "x" {}\n',
    'modules/sub/variables.tf': 'variable "cidr" {}\n',
    'scripts/check.sh': '#!/bin/sh\nexit 0\n',
  });
  assert.is(entries.find((e) => e.name === 'scripts/check.sh')?.mode, 0o100755);
  assert.ok(
    entries.every((e) => !e.name.startsWith(`${OWNER}-`)),
    'no top-level directory',
  );
});

test('tarball and zipball, to zip and tar.gz: the same module, byte-identical per format', async () => {
  const tarball = source();
  const zipball = source({ upstreamArchive: 'zipball' });
  for (const format of ['zip', 'tar.gz'] as const) {
    const a = await collect((await tarball.fetch(subject, '1.3.0', { format })).body);
    const b = await collect((await zipball.fetch(subject, '1.3.0', { format })).body);
    const c = await collect((await tarball.fetch(subject, '1.3.0', { format })).body);
    assert.is(sha256(a), sha256(b), `${format}: tarball vs zipball`);
    assert.is(sha256(a), sha256(c), `${format}: fetched twice`);
    const entries = format === 'zip' ? await readZip(a) : await readTarGz(a);
    assert.is(filesOf(entries)['main.tf'], '# version 1.3.0\nresource "null_resource" "x" {}\n');
  }
  const zipballRequests = standin.requests.filter((r) => r.url.includes('/zipball/v1.3.0'));
  assert.ok(zipballRequests.length >= 2 && zipballRequests.every((r) => r.status === 302), 'zipball answered with a redirect');
  assert.ok(
    standin.requests.some((r) => r.url.includes('/codeload/') && r.url.includes('legacy.zip') && r.status === 200),
    'redirect followed',
  );
});

test('a bare tag is found after the v-prefixed one 404s', async () => {
  const before = standin.requests.length;
  const archive = await source().fetch(subject, '2.0.0', { format: 'tar.gz' });
  assert.is(archive.filename, `${REPO}-2.0.0.tar.gz`);
  assert.is(filesOf(await readTarGz(await collect(archive.body)))['main.tf'], '# version 2.0.0\nresource "null_resource" "x" {}\n');
  const tried = standin.requests.slice(before).filter((r) => r.url.includes('/tarball/'));
  assert.equal(
    tried.map((r) => [r.url, r.status]),
    [
      [`/repos/${OWNER}/${REPO}/tarball/v2.0.0`, 404],
      [`/repos/${OWNER}/${REPO}/tarball/2.0.0`, 302],
    ],
  );
});

test('a missing version or repository is a NotFoundError that names the repository and the tags tried', async () => {
  const err = await failure(source().fetch(subject, '9.9.9'));
  assert.ok(isOpenDepotError(err, 'not_found'), err.message);
  assert.match(err.message, /acme\/terraform-aws-vpc has no tag v9\.9\.9 or 9\.9\.9/);
  const missing = moduleArchiveSubject({ name: 'nope', provider: 'aws', repoOwner: OWNER });
  const err2 = await failure(source().listVersions(missing));
  assert.ok(isOpenDepotError(err2, 'not_found'));
  assert.match(err2.message, /GitHub repository acme\/nope was not found at http:\/\/127\.0\.0\.1:\d+/);
  const bad = await failure(source().fetch(subject, '../../x'));
  assert.ok(isOpenDepotError(bad, 'input'));
});

test('5xx answers are retried briefly, then become UnavailableError', async () => {
  standin.failNext(1, 502);
  const versions = await source({ retries: 1 }).listVersions(subject);
  assert.ok(versions.length > 200, 'one 502 is retried');
  standin.failNext(10, 500);
  const started = Date.now();
  const err = await failure(source({ retries: 1 }).listVersions(subject));
  standin.failNext(0);
  assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
  assert.match(err.message, /GitHub answered 500/);
  assert.ok(Date.now() - started < 5_000, 'no long waits inside the source');
  standin.failNext(3, 503);
  const download = await failure(source({ retries: 0 }).fetch(subject, '1.0.0'));
  standin.failNext(0);
  assert.ok(isOpenDepotError(download, 'unavailable'), download.message);
});

test('an unreachable GitHub is an UnavailableError that says so', async () => {
  const closed = await freePort();
  const err = await failure(new GithubArchiveSource({ baseUrl: `http://127.0.0.1:${closed}`, retries: 0, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } }).listVersions(subject));
  assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
  assert.match(err.message, /could not reach GitHub for the releases of acme\/terraform-aws-vpc: .*ECONNREFUSED/);
});

test('a primary rate limit (403, remaining 0) becomes UnavailableError with retryAfterMs from x-ratelimit-reset', async () => {
  standin.setRateLimited({ kind: 'primary', resetInSeconds: 120 });
  try {
    const started = Date.now();
    const err = (await failure(source().listVersions(subject))) as UnavailableError;
    assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
    assert.match(err.message, /rate limit/);
    assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 100_000 && err.retryAfterMs <= 122_000, `retryAfterMs ${err.retryAfterMs}`);
    assert.ok(Date.now() - started < 5_000, 'the source does not wait for the reset');
    const download = (await failure(source().fetch(subject, '1.0.0'))) as UnavailableError;
    assert.ok(isOpenDepotError(download, 'unavailable') && download.retryAfterMs !== undefined);
  } finally {
    standin.setRateLimited(false);
  }
});

test('a secondary rate limit (429 or 403 with retry-after) becomes UnavailableError with retryAfterMs', async () => {
  try {
    standin.setRateLimited({ kind: 'secondary', retryAfterSeconds: 30 });
    const err = (await failure(source().listVersions(subject))) as UnavailableError;
    assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
    assert.is(err.retryAfterMs, 30_000);
    standin.setRateLimited({ kind: 'secondary', retryAfterSeconds: 7, status: 403 });
    const err2 = (await failure(source().fetch(subject, '1.0.0'))) as UnavailableError;
    assert.is(err2.retryAfterMs, 7_000);
    const after = standin.requests.filter((r) => r.status === 429 || r.status === 403).length;
    assert.ok(after >= 2);
  } finally {
    standin.setRateLimited(false);
  }
});

test('no Authorization header unless the module asks for an authenticated client', async () => {
  const before = standin.requests.length;
  await source().listVersions(subject);
  assert.ok(standin.requests.slice(before).every((r) => r.authorization === undefined));
});

test('with useAuthenticatedClient, the token comes from the referenced Secret and is sent', async () => {
  const token = 'ghp_standinToken0123456789';
  const privateRepo = await startGithubStandin({ token });
  try {
    privateRepo.addRepo(OWNER, REPO, { releases: [{ tag: 'v1.0.0', files: files('1.0.0') }] });
    const reads: string[] = [];
    const readSecret: SecretReader = async (name, key, namespace) => {
      reads.push(`${namespace}/${name}/${key}`);
      return name === 'gh-creds' && key === 'token' ? token : undefined;
    };
    const lines: string[] = [];
    const logger = capturingLogger(lines);
    const anonymous = await failure(source({ readSecret, logger }, privateRepo).listVersions(subject));
    assert.ok(isOpenDepotError(anonymous, 'not_found'), 'a private repository looks missing without credentials');
    assert.is(reads.length, 0, 'no Secret read for an anonymous module');
    const authed = moduleArchiveSubject(
      { name: REPO, provider: 'aws', repoOwner: OWNER },
      { namespace: 'team-a', githubClientConfig: { useAuthenticatedClient: true, secretRef: { name: 'gh-creds' } } },
    );
    const before = privateRepo.requests.length;
    const src = source({ readSecret, logger }, privateRepo);
    assert.equal(
      (await src.listVersions(authed)).map((v) => v.version),
      ['1.0.0'],
    );
    const archive = await src.fetch(authed, '1.0.0', { format: 'tar.gz' });
    assert.ok(filesOf(await readTarGz(await collect(archive.body)))['main.tf']);
    assert.ok(reads.includes('team-a/gh-creds/token'));
    const api = privateRepo.requests.slice(before).filter((r) => !r.url.startsWith('/codeload/'));
    assert.ok(api.length >= 2 && api.every((r) => r.authorization === `token ${token}`), JSON.stringify(api));
    // A wrong token is an authentication error whose message does not repeat the token.
    const wrong = await failure(source({ readSecret: async (_n, k) => (k === 'token' ? 'ghp_wrong' : undefined) }, privateRepo).listVersions(authed));
    assert.ok(isOpenDepotError(wrong, 'unauthenticated'), wrong.message);
    assert.not.match(wrong.message, /ghp_/);
    assert.ok(
      lines.every((l) => !l.includes(token)),
      'token never logged',
    );
  } finally {
    await privateRepo.close();
  }
});

test("the subject's readSecret (the host's, scoped to the Module's namespace) is what the github plugin reads credentials with", async () => {
  const token = 'ghp_scopedToken0123456789';
  const privateRepo = await startGithubStandin({ token });
  try {
    privateRepo.addRepo(OWNER, REPO, { releases: [{ tag: 'v1.0.0', files: files('1.0.0') }] });
    const plugin = await githubArchiveSourcePlugin.create(
      { baseUrl: privateRepo.url, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } },
      // The context reads the host's own namespace: it must not be used for a Module's Secret.
      { logger: capturingLogger([]), signal: new AbortController().signal, clock: { now: Date.now }, configPath: 'plugins[0].config', readSecret: async () => 'ghp_fromTheHostNamespace' },
    );
    const reads: string[] = [];
    const authed = {
      ...moduleArchiveSubject({ name: REPO, provider: 'aws', repoOwner: OWNER }, { namespace: 'team-a', githubClientConfig: { useAuthenticatedClient: true, secretRef: { name: 'gh-creds' } } }),
      readSecret: async (name: string, key: string) => {
        reads.push(`${name}/${key}`);
        return name === 'gh-creds' && key === 'token' ? token : undefined;
      },
    };
    try {
      assert.equal(
        (await plugin.listVersions(authed)).map((v) => v.version),
        ['1.0.0'],
      );
      assert.ok(reads.includes('gh-creds/token'), reads.join(', '));
    } finally {
      await plugin.close?.();
    }
  } finally {
    await privateRepo.close();
  }
});

test('GitHub App credentials from the Secret get an installation token', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = await startGithubStandin({ token: 'ghp_notUsedHere' });
  try {
    app.addRepo(OWNER, REPO, {
      releases: [
        { tag: 'v1.0.0', files: files('1.0.0') },
        { tag: 'v1.1.0', files: files('1.1.0') },
      ],
    });
    app.addApp({ appId: 4242, installationId: 99, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const secret: Record<string, string> = {
      githubAppID: '4242',
      githubInstallID: '99',
      githubPrivateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
    const readSecret: SecretReader = async (name, key) => (name === 'opendepot-github-application-secret' ? secret[key] : undefined);
    const authed = moduleArchiveSubject({ name: REPO, provider: 'aws', repoOwner: OWNER }, { githubClientConfig: { useAuthenticatedClient: true } });
    const src = source({ readSecret }, app);
    assert.equal(
      (await src.listVersions(authed)).map((v) => v.version),
      ['1.0.0', '1.1.0'],
    );
    await collect((await src.fetch(authed, '1.1.0')).body);
    const tokenCalls = app.requests.filter((r) => r.method === 'POST' && r.url === '/app/installations/99/access_tokens');
    assert.is(tokenCalls.length, 1, 'installation token fetched once and reused');
    assert.match(tokenCalls[0]?.authorization ?? '', /^bearer ey/i);
    const api = app.requests.filter((r) => r.url.startsWith('/repos/'));
    assert.ok(api.length >= 2 && api.every((r) => /^token ghs_/.test(r.authorization ?? '')), JSON.stringify(api));
  } finally {
    await app.close();
  }
});

test('a Secret without GitHub credentials is a clear NotFoundError; no Secret access is an InputError', async () => {
  const authed = moduleArchiveSubject({ name: REPO, provider: 'aws', repoOwner: OWNER }, { namespace: 'ns', githubClientConfig: { useAuthenticatedClient: true } });
  const err = await failure(source({ readSecret: async () => undefined }).listVersions(authed));
  assert.ok(isOpenDepotError(err, 'not_found'));
  assert.match(err.message, /Secret ns\/opendepot-github-application-secret holds no GitHub credentials/);
  assert.match(err.message, /"token"/);
  const noAccess = await failure(source().listVersions(authed));
  assert.ok(isOpenDepotError(noAccess, 'input'));
});

test('an upstream archive with a traversal path is refused', async () => {
  const evil = moduleArchiveSubject({ name: 'evil-module', provider: 'aws', repoOwner: OWNER });
  const err = await failure(source().fetch(evil, '1.0.0'));
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.match(err.message, /"\.\." segment/);
});

test('repository from repoUrl in its https, ssh and scp forms, or from repoOwner and name', () => {
  assert.equal(parseGithubUrl('https://github.com/acme/vpc'), { owner: 'acme', repo: 'vpc' });
  assert.equal(parseGithubUrl('https://github.com/acme/vpc.git/'), { owner: 'acme', repo: 'vpc' });
  assert.equal(parseGithubUrl('ssh://git@github.com/acme/vpc.git'), { owner: 'acme', repo: 'vpc' });
  assert.equal(parseGithubUrl('git@github.com:acme/vpc.git'), { owner: 'acme', repo: 'vpc' });
  for (const bad of ['https://github.com/acme', 'https://github.com/acme/vpc/tree/main', 'not a url', 'https://github.com/-x/vpc']) {
    let err: unknown;
    try {
      parseGithubUrl(bad);
    } catch (e) {
      err = e;
    }
    assert.ok(isOpenDepotError(err, 'input'), bad);
    assert.is((err as { field?: string }).field, 'spec.moduleConfig.repoUrl');
  }
  const fromOwner: ArchiveSubject = moduleArchiveSubject({ name: REPO, provider: 'aws', repoOwner: OWNER });
  assert.is(fromOwner.url, undefined);
});

test('the source is also an archive-source plugin', async () => {
  assert.ok(isPlugin(githubArchiveSourcePlugin));
  assert.is(githubArchiveSourcePlugin.kind, 'archive-source');
  assert.is(githubArchiveSourcePlugin.name, 'github');
  const lines: string[] = [];
  const plugin = await githubArchiveSourcePlugin.create(
    { baseUrl: standin.url, egress: { allowedPrivateCidrs: ['127.0.0.0/8'] } },
    { logger: capturingLogger(lines), signal: new AbortController().signal, clock: { now: () => Date.now() }, configPath: 'plugins[0].config' },
  );
  assert.ok((await plugin.listVersions(subject)).length > 200);
});

function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

test.run();
