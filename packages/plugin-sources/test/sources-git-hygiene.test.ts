/**
 * Issue 10 §2, git hygiene: git runs with a clean environment (no ~/.gitconfig `insteadOf`,
 * credential helpers or proxies from the operator's environment), and a git failure that is not
 * about the network (e.g. a tag that is not a tree, "invalid path") is permanent, not retried
 * forever. Real git, real repositories.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError } from '@opendepot/sdk';
import { createGitRepo, type GitRepo } from '@opendepot/testbed';
import { GitCommandError, gitEnv, gitError } from '../src/git-command.ts';
import { moduleArchiveSubject } from '@opendepot/archive-kit';
import { GitArchiveSource } from '../src/index.ts';

const run = promisify(execFile);
let scratch = '';
let good: GitRepo;
let evil: GitRepo;
const saved = { ...process.env };

const subjectFor = (url: string) => moduleArchiveSubject({ name: 'vpc', provider: 'aws', repoUrl: url });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-git-hygiene-'));
  good = await createGitRepo(join(scratch, 'good'), { tags: { 'v1.0.0': { 'main.tf': '# good\n' } } });
  evil = await createGitRepo(join(scratch, 'evil'), { tags: { 'v6.6.6': { 'main.tf': '# evil\n' } } });
});
test.after(async () => {
  process.env = saved;
  await rm(scratch, { recursive: true, force: true });
});

test('a ~/.gitconfig insteadOf in the operator environment does not redirect git', async () => {
  const home = join(scratch, 'home');
  await mkdir(join(home, '.config', 'git'), { recursive: true });
  const redirect = `[url "${evil.url}"]\n\tinsteadOf = ${good.url}\n[credential]\n\thelper = !touch ${join(scratch, 'helper-ran')}\n`;
  await writeFile(join(home, '.gitconfig'), redirect);
  await writeFile(join(home, '.config', 'git', 'config'), redirect);
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = join(home, '.config');
  try {
    // The machine's git does follow it: that is what the operator must not do.
    const plain = await run('git', ['ls-remote', '--tags', good.url], { env: { PATH: process.env.PATH, HOME: home } });
    assert.match(plain.stdout, /v6\.6\.6/);
    const source = new GitArchiveSource({ allowFileUrls: true, tmpDir: scratch });
    const versions = await source.listVersions(subjectFor(good.url));
    assert.equal(
      versions.map((v) => v.version),
      ['1.0.0'],
    );
    const fetched = await source.fetch(subjectFor(good.url), '1.0.0');
    for await (const _ of fetched.body) void _;
    const env = gitEnv({ allowFile: true });
    assert.not.ok(env.HOME === home);
    assert.is(env.GIT_CONFIG_GLOBAL, '/dev/null');
    assert.is(env.GIT_CONFIG_NOSYSTEM, '1');
    assert.is(env.GIT_TERMINAL_PROMPT, '0');
  } finally {
    process.env.HOME = saved.HOME;
    if (saved.XDG_CONFIG_HOME === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
  }
});

test('proxies from the operator environment are not used by git', async () => {
  let connections = 0;
  const proxy = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'all_proxy', 'ALL_PROXY']) process.env[name] = proxyUrl;
  try {
    const env = gitEnv({ allowFile: false });
    for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'all_proxy', 'ALL_PROXY']) assert.is(env[name], undefined, name);
    const source = new GitArchiveSource({ timeoutMs: 20_000, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } });
    const err = await failure(source.listVersions(subjectFor('https://127.0.0.1:1/acme/vpc.git')));
    assert.ok(isOpenDepotError(err, 'unavailable'), err.message);
    assert.is(connections, 0, 'git went through the proxy');
  } finally {
    for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'all_proxy', 'ALL_PROXY']) delete process.env[name];
    proxy.close();
  }
  assert.not.ok(existsSync(join(scratch, 'helper-ran')), 'a credential helper ran');
});

test('a tag that git cannot archive (it names a blob) is a permanent InputError, not retried forever', async () => {
  const dir = join(scratch, 'blobtag');
  await createGitRepo(dir, { tags: { 'v1.0.0': { 'main.tf': '# ok\n' } } });
  const env = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1' };
  await writeFile(join(dir, 'blob.txt'), 'not a tree\n');
  const { stdout } = await run('git', ['hash-object', '-w', 'blob.txt'], { cwd: dir, env });
  await run('git', ['tag', 'v2.0.0', stdout.trim()], { cwd: dir, env });
  const source = new GitArchiveSource({ allowFileUrls: true, tmpDir: scratch });
  const err = await failure(source.fetch(subjectFor(`file://${dir}`), '2.0.0'));
  assert.ok(isOpenDepotError(err, 'input'), `${(err as { code?: string }).code}: ${err.message}`);
});

test('gitError: "invalid path" and other unknown failures are permanent; network and server failures stay transient', () => {
  const fail = (stderr: string, exitCode: number | null = 128) => gitError(new GitCommandError('fetch', exitCode, stderr, false), 'fetching tag v1');
  assert.ok(isOpenDepotError(fail("error: invalid path 'modules/a\\b.tf'"), 'input'));
  assert.ok(isOpenDepotError(fail('fatal: bad tree object 1234'), 'input'));
  assert.ok(isOpenDepotError(fail('fatal: unable to access: Could not resolve host: github.com'), 'unavailable'));
  assert.ok(isOpenDepotError(fail('error: RPC failed; HTTP 502'), 'unavailable'));
  assert.ok(isOpenDepotError(fail('error: RPC failed; curl 28 Operation too slow. Less than 1024 bytes/sec transferred the last 60 seconds'), 'unavailable'));
  assert.ok(isOpenDepotError(fail('', null), 'unavailable'));
  assert.ok(isOpenDepotError(fail("fatal: couldn't find remote ref refs/tags/v9"), 'not_found'));
});

test.run();
