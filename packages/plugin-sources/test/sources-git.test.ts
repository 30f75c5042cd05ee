import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError, isPlugin } from '@opendepot/sdk';
import { createGitRepo, startGithubStandin, type GitRepo, type RepoFiles } from '@opendepot/testbed';
import { runGit } from '../src/git-command.ts';
import { moduleArchiveSubject } from '@opendepot/archive-kit';
import { GitArchiveSource, GithubArchiveSource, checkGitRemote, gitArchiveSourcePlugin } from '../src/index.ts';
import { collect, filesOf, readTarGz, readZip, sha256 } from '@opendepot/testbed';

let scratch = '';
let repo: GitRepo;
let annotated: GitRepo;

const v1: RepoFiles = {
  'main.tf': 'resource "null_resource" "v1" {}\n',
  'old.tf': '# removed in 1.1.0\n',
  'modules/sub/main.tf': 'output "x" { value = 1 }\n',
};
const v11: RepoFiles = {
  'main.tf': 'resource "null_resource" "v11" {}\n',
  'modules/sub/main.tf': 'output "x" { value = 2 }\n',
  'bin/tool.sh': { content: '#!/bin/sh\necho tool\n', executable: true },
  'README.md': { symlink: 'docs/README.md' },
  'docs/README.md': '# docs\n',
};

const subjectFor = (url: string) => moduleArchiveSubject({ name: 'terraform-aws-vpc', provider: 'aws', repoUrl: url });

async function failure(promise: Promise<unknown>): Promise<Error & { field?: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { field?: string; hint?: string };
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-git-test-'));
  repo = await createGitRepo(join(scratch, 'vpc'), {
    tags: { 'v1.0.0': v1, 'v1.1.0': v11, '1.2.0': { 'main.tf': '# bare tag\n' }, 'not-a-version': { 'x.tf': '' }, 'v2.0.0-beta.1': { 'main.tf': '# beta\n' } },
  });
  annotated = await createGitRepo(join(scratch, 'annotated'), { tags: { 'v0.1.0': v1, 'v0.2.0': v11 }, annotated: true });
});

test.after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('file:// remotes and local paths are refused unless allowFileUrls is set', async () => {
  const source = new GitArchiveSource();
  for (const url of [repo.url, repo.dir]) {
    const err = await failure(source.listVersions(subjectFor(url)));
    assert.ok(isOpenDepotError(err, 'input'), err.message);
    assert.is(err.field, 'spec.moduleConfig.repoUrl');
    assert.match(err.message, /moduleConfig\.repoUrl/);
    assert.match(err.hint ?? '', /allowFileUrls: true/);
  }
});

test('listVersions lists the semver tags, lightweight or annotated (peeled ^{} lines folded)', async () => {
  const source = new GitArchiveSource({ allowFileUrls: true });
  const versions = await source.listVersions(subjectFor(repo.url));
  assert.equal(
    versions.map((v) => [v.version, v.ref]),
    [
      ['1.0.0', 'v1.0.0'],
      ['1.1.0', 'v1.1.0'],
      ['1.2.0', undefined],
      ['2.0.0-beta.1', 'v2.0.0-beta.1'],
    ],
  );
  const peeled = await source.listVersions(subjectFor(annotated.url));
  assert.equal(
    peeled.map((v) => v.version),
    ['0.1.0', '0.2.0'],
  );
});

test('fetch gives exactly the tree at the tag, at the archive root, as zip or tar.gz', async () => {
  const source = new GitArchiveSource({ allowFileUrls: true });
  const zip = await source.fetch(subjectFor(repo.url), '1.1.0', { format: 'zip' });
  assert.is(zip.filename, 'terraform-aws-vpc-1.1.0.zip');
  const zipBytes = await collect(zip.body);
  assert.is(zip.size, zipBytes.length);
  const entries = await readZip(zipBytes);
  assert.equal(filesOf(entries), {
    'README.md': '# docs\n',
    'bin/tool.sh': '#!/bin/sh\necho tool\n',
    'docs/README.md': '# docs\n',
    'main.tf': 'resource "null_resource" "v11" {}\n',
    'modules/sub/main.tf': 'output "x" { value = 2 }\n',
  });
  assert.is(entries.find((e) => e.name === 'bin/tool.sh')?.mode, 0o100755);
  const tgz = await source.fetch(subjectFor(repo.url), '1.0.0', { format: 'tar.gz' });
  assert.equal(filesOf(await readTarGz(await collect(tgz.body))), {
    'main.tf': 'resource "null_resource" "v1" {}\n',
    'modules/sub/main.tf': 'output "x" { value = 1 }\n',
    'old.tf': '# removed in 1.1.0\n',
  });
  const bare = await source.fetch(subjectFor(repo.url), '1.2.0', { format: 'tar.gz' });
  assert.equal(filesOf(await readTarGz(await collect(bare.body))), { 'main.tf': '# bare tag\n' });
  const tagged = await source.fetch(subjectFor(annotated.url), '0.2.0');
  assert.is(filesOf(await readZip(await collect(tagged.body)))['main.tf'], 'resource "null_resource" "v11" {}\n');
});

test('fetching twice gives the same sha256, and so does the GitHub source for the same tree', async () => {
  const source = new GitArchiveSource({ allowFileUrls: true });
  const standin = await startGithubStandin();
  try {
    standin.addRepo('acme', 'terraform-aws-vpc', { releases: [{ tag: 'v1.1.0', files: v11 }] });
    const github = new GithubArchiveSource({ baseUrl: standin.url, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } });
    for (const format of ['zip', 'tar.gz'] as const) {
      const first = await collect((await source.fetch(subjectFor(repo.url), '1.1.0', { format })).body);
      const entries = format === 'zip' ? await readZip(first) : await readTarGz(first);
      assert.is(filesOf(entries)['main.tf'], 'resource "null_resource" "v11" {}\n');
      const a = sha256(first);
      const b = sha256(await collect((await source.fetch(subjectFor(repo.url), '1.1.0', { format })).body));
      const c = sha256(await collect((await github.fetch(subjectFor('https://github.com/acme/terraform-aws-vpc'), '1.1.0', { format })).body));
      assert.is(a, b, `${format}: git twice`);
      assert.is(a, c, `${format}: git and github`);
    }
  } finally {
    await standin.close();
  }
});

test('a missing version or repository is a NotFoundError naming the remote', async () => {
  const source = new GitArchiveSource({ allowFileUrls: true });
  const err = await failure(source.fetch(subjectFor(repo.url), '9.9.9'));
  assert.ok(isOpenDepotError(err, 'not_found'), err.message);
  assert.match(err.message, /has no tag v9\.9\.9 or 9\.9\.9/);
  assert.ok(err.message.includes(repo.url));
  const gone = await failure(source.listVersions(subjectFor(`${repo.url}-missing`)));
  assert.ok(isOpenDepotError(gone, 'not_found'), gone.message);
  assert.match(gone.message, /listing the tags of file:/);
});

test('an unreachable remote is an UnavailableError', async () => {
  const source = new GitArchiveSource({ timeoutMs: 20_000, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } });
  const err = await failure(source.listVersions(subjectFor('https://127.0.0.1:1/acme/vpc.git')));
  assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
});

test('temporary clones are removed after success and after failure', async () => {
  const work = join(scratch, 'work');
  await mkdir(work);
  const source = new GitArchiveSource({ allowFileUrls: true, tmpDir: work });
  const archive = await source.fetch(subjectFor(repo.url), '1.1.0');
  assert.equal(await readdir(work), []);
  assert.ok((await collect(archive.body)).length > 0);
  const limited = new GitArchiveSource({ allowFileUrls: true, tmpDir: work, limits: { maxEntries: 2 } });
  const err = await failure(limited.fetch(subjectFor(repo.url), '1.1.0'));
  assert.ok(isOpenDepotError(err, 'input'), err.message);
  assert.match(err.message, /more than 2 entries/);
  assert.equal(await readdir(work), []);
});

test('remote policy: option injection, remote helpers and plain-text schemes are refused', () => {
  const refused: Array<[string, RegExp]> = [
    ['-uhttps://example.com/x', /starts with "-"/],
    ['--upload-pack=touch /tmp/x', /whitespace|starts with "-"/],
    ['ext::sh -c touch% /tmp/pwned', /whitespace|remote helpers/],
    ['ext::sh', /remote helpers/],
    ['fd::3', /remote helpers/],
    ['http://example.com/acme/vpc.git', /http:\/\/ scheme is not allowed/],
    ['git://example.com/acme/vpc.git', /git:\/\/ scheme is not allowed/],
    ['ssh://-oProxyCommand=x/acme/vpc', /no valid host|not a valid URL/],
    ['git@example.com:-x/vpc', /path starts with "-"/],
    ['relative/path', /use an https/],
  ];
  for (const [url, why] of refused) {
    let err: unknown;
    try {
      checkGitRemote(url);
    } catch (e) {
      err = e;
    }
    assert.ok(isOpenDepotError(err, 'input'), url);
    assert.match((err as Error).message, why, url);
  }
  assert.equal(checkGitRemote('https://git.example.com/acme/vpc.git'), { url: 'https://git.example.com/acme/vpc.git', protocol: 'https', host: 'git.example.com' });
  assert.equal(checkGitRemote('git@gitlab.example.com:acme/vpc.git'), { url: 'git@gitlab.example.com:acme/vpc.git', protocol: 'ssh', host: 'gitlab.example.com' });
  assert.is(checkGitRemote('ssh://git@example.com:2222/acme/vpc.git').host, 'example.com');
  let secret: unknown;
  try {
    checkGitRemote('http://user:s3cret@example.com/x.git');
  } catch (e) {
    secret = e;
  }
  assert.not.match((secret as Error).message, /s3cret/);
});

test('remote policy: allowedHosts restricts https and ssh remotes', () => {
  const policy = { allowedHosts: ['github.com', '*.git.example.com'] };
  assert.is(checkGitRemote('https://github.com/a/b', policy).host, 'github.com');
  assert.is(checkGitRemote('git@eu.git.example.com:a/b.git', policy).host, 'eu.git.example.com');
  for (const url of ['https://evil.com/a/b', 'https://git.example.com/a/b', 'https://github.com.evil.com/a/b', 'git@evilgit.example.com:a/b']) {
    let err: unknown;
    try {
      checkGitRemote(url, policy);
    } catch (e) {
      err = e;
    }
    assert.ok(isOpenDepotError(err, 'input'), url);
    assert.match((err as Error).message, /not in the git source's allowedHosts/, url);
  }
});

test('git itself refuses the ext and file transports unless allowed (defence in depth)', async () => {
  const marker = join(scratch, 'pwned');
  const base = { git: 'git', timeoutMs: 20_000, cwd: scratch };
  const ext = await failure(runGit(['ls-remote', '--', `ext::sh -c touch% ${marker}`], { ...base, allowFile: false }));
  assert.match(ext.message, /transport 'ext' not allowed/);
  assert.not.ok(existsSync(marker));
  const file = await failure(runGit(['ls-remote', '--', repo.url], { ...base, allowFile: false }));
  assert.match(file.message, /transport 'file' not allowed/);
  assert.match(await runGit(['ls-remote', '--tags', '--', repo.url], { ...base, allowFile: true }), /refs\/tags\/v1\.0\.0/);
});

test('the source is also an archive-source plugin', async () => {
  assert.ok(isPlugin(gitArchiveSourcePlugin));
  assert.is(gitArchiveSourcePlugin.name, 'git');
  const noop = () => undefined;
  const logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
  const source = await gitArchiveSourcePlugin.create({ allowFileUrls: true }, { logger, signal: new AbortController().signal, clock: { now: Date.now }, configPath: 'plugins[1].config' });
  assert.is((await source.listVersions(subjectFor(repo.url))).length, 4);
});

test.run();
