// The GitHub stand-in itself: the response shapes and headers the sources rely on.
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startGithubStandin, type GithubStandin } from '@opendepot/testbed';

let standin: GithubStandin;

test.before(async () => {
  standin = await startGithubStandin();
  standin.addRepo('acme', 'vpc', {
    releases: [
      { tag: 'v1.0.0', files: { 'main.tf': 'a' } },
      { tag: 'v1.1.0', files: { 'main.tf': 'b' }, draft: true },
      { tag: 'v1.2.0', files: { 'main.tf': 'c', 'sub/x.tf': 'x' }, prerelease: true },
    ],
  });
});
test.after(() => standin.close());

const get = (path: string, init?: RequestInit) => fetch(`${standin.url}${path}`, { redirect: 'manual', ...init });

test('releases: GitHub release objects, newest first, paginated with Link rel="next"/"last", rate-limit headers', async () => {
  const first = await get('/repos/acme/vpc/releases?per_page=2&page=1');
  assert.is(first.status, 200);
  assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-used', 'x-ratelimit-resource']) assert.ok(first.headers.get(h), h);
  const link = first.headers.get('link') ?? '';
  assert.match(link, /<http:\/\/127\.0\.0\.1:\d+\/repositories\/\d+\/releases\?per_page=2&page=2>; rel="next"/);
  assert.match(link, /rel="last"/);
  const body = (await first.json()) as Array<Record<string, unknown>>;
  assert.equal(
    body.map((r) => r.tag_name),
    ['v1.2.0', 'v1.1.0'],
  );
  const [newest, draft] = body;
  for (const key of ['id', 'node_id', 'url', 'html_url', 'tarball_url', 'zipball_url', 'name', 'draft', 'prerelease', 'created_at', 'published_at', 'assets']) {
    assert.ok(key in (newest ?? {}), key);
  }
  assert.is(newest?.prerelease, true);
  assert.is(draft?.draft, true);
  assert.is(draft?.published_at, null);
  const next = /<([^>]+)>; rel="next"/.exec(link)?.[1] ?? '';
  const second = await fetch(next);
  assert.equal(
    ((await second.json()) as Array<{ tag_name: string }>).map((r) => r.tag_name),
    ['v1.0.0'],
  );
  assert.match(second.headers.get('link') ?? '', /rel="prev".*rel="first"/);
  assert.ok(Number(second.headers.get('x-ratelimit-remaining')) < Number(first.headers.get('x-ratelimit-remaining')));
});

test('tarball: a 302 to a codeload route serving a gzip tar with one <owner>-<repo>-<sha7>/ directory', async () => {
  const redirect = await get('/repos/acme/vpc/tarball/v1.2.0');
  assert.is(redirect.status, 302);
  const location = redirect.headers.get('location') ?? '';
  assert.match(location, /\/codeload\/acme\/vpc\/legacy\.tar\.gz\/refs\/tags\/v1\.2\.0$/);
  const archive = await fetch(location);
  assert.is(archive.headers.get('content-type'), 'application/x-gzip');
  const tar = gunzipSync(Buffer.from(await archive.arrayBuffer()));
  assert.is(tar.subarray(156, 157).toString(), 'g', 'starts with a pax global header, like GitHub');
  assert.match(tar.subarray(512, 600).toString(), /comment=[0-9a-f]{40}/);
  assert.match(tar.subarray(1024, 1124).toString(), /^acme-vpc-[0-9a-f]{7}\//);
  const zip = await get('/repos/acme/vpc/zipball/v1.2.0');
  assert.is(zip.status, 302);
  const zipBytes = Buffer.from(await (await fetch(zip.headers.get('location') ?? '')).arrayBuffer());
  assert.is(zipBytes.subarray(0, 2).toString(), 'PK');
  assert.is((await get('/repos/acme/vpc/tarball/v9.9.9')).status, 404);
});

test('release by tag, /rate_limit, 404 shape', async () => {
  const release = await get('/repos/acme/vpc/releases/tags/v1.0.0');
  assert.is(((await release.json()) as { tag_name: string }).tag_name, 'v1.0.0');
  assert.is((await get('/repos/acme/vpc/releases/tags/v1.1.0')).status, 404, 'drafts are not found by tag');
  const limits = (await (await get('/rate_limit')).json()) as { resources: { core: { limit: number; remaining: number } }; rate: unknown };
  assert.ok(limits.resources.core.limit > 0 && limits.rate);
  const missing = await get('/repos/acme/nope/releases');
  assert.is(missing.status, 404);
  assert.equal(await missing.json(), { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
});

test('faults: failNext, rate-limit modes, required token, request log', async () => {
  standin.failNext(2, 502);
  assert.is((await get('/repos/acme/vpc/releases')).status, 502);
  assert.is((await get('/repos/acme/vpc/releases')).status, 502);
  assert.is((await get('/repos/acme/vpc/releases')).status, 200);
  standin.setRateLimited({ kind: 'primary', resetInSeconds: 30 });
  const primary = await get('/repos/acme/vpc/releases');
  assert.is(primary.status, 403);
  assert.is(primary.headers.get('x-ratelimit-remaining'), '0');
  assert.ok(Number(primary.headers.get('x-ratelimit-reset')) >= Math.floor(Date.now() / 1000) + 29);
  standin.setRateLimited({ kind: 'secondary', retryAfterSeconds: 12 });
  const secondary = await get('/repos/acme/vpc/releases');
  assert.is(secondary.status, 429);
  assert.is(secondary.headers.get('retry-after'), '12');
  standin.setRateLimited(false);
  assert.ok(standin.requests.some((r) => r.status === 429 && r.url === '/repos/acme/vpc/releases'));

  const locked = await startGithubStandin({ token: 'ghp_secret' });
  try {
    locked.addRepo('acme', 'vpc', { releases: [{ tag: 'v1.0.0', files: { 'main.tf': 'a' } }] });
    const at = (path: string, auth?: string) => fetch(`${locked.url}${path}`, { redirect: 'manual', headers: auth ? { authorization: auth } : {} });
    assert.is((await at('/repos/acme/vpc/releases')).status, 404, 'private repository without credentials');
    assert.is((await at('/repos/acme/vpc/releases', 'token ghp_wrong')).status, 401);
    assert.is((await at('/repos/acme/vpc/releases', 'Bearer ghp_secret')).status, 200);
    const redirect = await at('/repos/acme/vpc/tarball/v1.0.0', 'token ghp_secret');
    const location = redirect.headers.get('location') ?? '';
    assert.match(location, /\?token=[0-9a-f]+$/, 'a one-time download token, like codeload');
    assert.is((await fetch(location)).status, 200);
    assert.is((await fetch(location)).status, 404, 'the download token is used up');
  } finally {
    await locked.close();
  }
});

test.run();
