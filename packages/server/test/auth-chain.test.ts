/**
 * The auth chain's rules with auth providers written against the SDK contract (as plugin-dex
 * is): the first provider that does not abstain decides; a provider without `authorize` leaves the
 * decision to `grants` (the GroupBinding check) and is granted nothing without it; discovery
 * advertises the first provider's `login.v1`; the default chain is anonymous access, which needs
 * no signed URLs; the auth caches are bounded and expire.
 */
import type { AuthProvider, LoginV1, ProtectedResource } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { anonymousProvider, type NamedAuthProvider } from '../src/index.ts';
import { TtlCache } from '../src/auth/ttl-cache.ts';
import { DownloadUrlSigner } from '../src/auth/download-urls.ts';
import { Gate } from '../src/auth/kubernetes.ts';
import { moduleKey, moduleResource, NS, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

const MODULES = '/opendepot/modules/v1';
const LOGIN: LoginV1 = {
  client: 'opendepot-cli',
  grant_types: ['authz_code'],
  authz: 'https://dex.example/auth',
  token: 'https://dex.example/token',
  ports: [10000, 10010],
  scopes: ['openid', 'groups'],
};

/** An OIDC-like provider: `Bearer user:<name>:<group>` is a user; other bearer tokens it denies; no token, it abstains. */
function headerProvider(options: { login?: boolean } = {}): AuthProvider {
  return {
    async authenticate(request) {
      const header = request.headers.authorization;
      if (header === undefined) return { decision: 'abstain' };
      const match = /^Bearer user:([a-z]+):([a-z-]+)$/.exec(header);
      if (match === null) return { decision: 'deny', reason: 'token signature invalid' };
      return { decision: 'allow', principal: { subject: match[1]!, provider: 'oidc', groups: [match[2]!], claims: { email: `${match[1]}@example.com` } } };
    },
    ...(options.login && { loginV1: () => LOGIN }),
  };
}

async function withRegistry(
  providers: NamedAuthProvider[] | undefined,
  grants: ((p: { groups: string[] }, r: ProtectedResource) => boolean) | undefined,
  run: (r: TestRegistry) => Promise<void>,
): Promise<void> {
  const r = await startTestRegistry({ ...(providers && { auth: { providers } }), ...(grants && { grants }) });
  try {
    for (const name of ['foo', 'bar']) {
      const module = moduleResource({ name, provider: 'aws' });
      r.modules.put(module);
      r.versions.put(versionResource({ owner: module, version: '1.0.0', stored: await store(r.storage, moduleKey(module, '1.0.0'), Buffer.from(name)) }));
    }
    await run(r);
  } finally {
    await r.close();
  }
}

const get = (r: TestRegistry, path: string, token?: string) => fetch(`${r.url}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

test('the default is anonymous access: everything answers, download URLs carry no signature', async () => {
  await withRegistry(undefined, undefined, async (r) => {
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`)).status, 200);
    const download = await get(r, `${MODULES}/${NS}/foo/aws/1.0.0/download`);
    assert.is(download.status, 204);
    assert.not.match(download.headers.get('x-terraform-get')!, 'od_sig');
    // A token nobody recognises still gets anonymous access.
    assert.is((await get(r, `${MODULES}/${NS}/bar/aws/versions`, 'whatever')).status, 200);
    const discovery = (await (await get(r, '/.well-known/terraform.json')).json()) as Record<string, unknown>;
    assert.not.ok('login.v1' in discovery);
  });
});

test('a provider without authorize: grants decides; unset, nothing is granted', async () => {
  const grants = (p: { groups: string[] }, res: ProtectedResource) => p.groups.includes('platform') && res.kind === 'Module' && res.name === 'foo' && res.namespace === NS;
  await withRegistry([{ name: 'oidc', provider: headerProvider() }], grants, async (r) => {
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`, 'user:alice:platform')).status, 200);
    const bar = await get(r, `${MODULES}/${NS}/bar/aws/versions`, 'user:alice:platform');
    assert.is(bar.status, 403);
    assert.equal(await bar.json(), { errors: [`access to Module ${NS}/bar is not granted: a grant for it is missing`] });
    // The clients print the status line, not the body: the reason phrase names what was refused.
    assert.is(bar.statusText, `Forbidden: access to Module ${NS}/bar is not granted: a grant for it is missing`);
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`, 'user:bob:other')).status, 403);
    // A token the provider denies: 401, with nothing of its reason in the answer.
    const denied = await get(r, `${MODULES}/${NS}/foo/aws/versions`, 'forged');
    assert.is(denied.status, 401);
    assert.is(denied.headers.get('www-authenticate'), 'Bearer');
    assert.equal(await denied.json(), { errors: ['the credential was not accepted'] });
    const audit = r.logs.filter((l) => l.msg === 'access decision');
    assert.ok(audit.some((l) => l.decision === 'deny' && l.provider === 'oidc' && l.reason === 'token signature invalid' && l.subject === 'unauthenticated'));
    assert.ok(audit.some((l) => l.decision === 'allow' && l.subject === 'alice' && l.reason === 'granted by a GroupBinding'));
  });
  await withRegistry([{ name: 'oidc', provider: headerProvider() }], undefined, async (r) => {
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`, 'user:alice:platform')).status, 403);
    assert.ok(r.logs.some((l) => l.msg === 'access decision' && l.reason === 'no GroupBinding check configured'));
  });
  // A check that throws grants nothing.
  const broken = () => {
    throw new Error('binding cache not ready');
  };
  await withRegistry([{ name: 'oidc', provider: headerProvider() }], broken, async (r) => {
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`, 'user:alice:platform')).status, 403);
    assert.ok(r.logs.some((l) => l.msg === 'access decision' && l.reason === 'the GroupBinding check failed'));
  });
});

test('the first provider that does not abstain decides; anonymous last serves callers without a token', async () => {
  await withRegistry(
    [
      { name: 'oidc', provider: headerProvider({ login: true }) },
      { name: 'anonymous', provider: anonymousProvider() },
    ],
    () => false,
    async (r) => {
      // No token: oidc abstains, anonymous allows.
      assert.is((await get(r, `${MODULES}/${NS}/bar/aws/versions`)).status, 200);
      // A known user: oidc decides, and grants (here: nothing) applies.
      assert.is((await get(r, `${MODULES}/${NS}/bar/aws/versions`, 'user:alice:platform')).status, 403);
      // A forged token: oidc denies; anonymous is not asked.
      assert.is((await get(r, `${MODULES}/${NS}/bar/aws/versions`, 'forged')).status, 401);
      const discovery = (await (await get(r, '/.well-known/terraform.json')).json()) as Record<string, unknown>;
      assert.equal(discovery['login.v1'], LOGIN);
      assert.is(discovery['modules.v1'], '/opendepot/modules/v1/');
    },
  );
});

test('the network mirror shows each caller the packages of the Providers it is granted, per namespace', async () => {
  // Team a may read Providers in namespace team-a only; team b in team-b only.
  const grants = (p: { groups: string[] }, res: ProtectedResource) => res.kind === 'Provider' && p.groups.includes(res.namespace);
  await withRegistry([{ name: 'oidc', provider: headerProvider() }], grants, async (r) => {
    // Both namespaces mirror registry.terraform.io/hashicorp/hello: 1.0.0 in team-a, 2.0.0 in team-b.
    for (const [namespace, version] of [
      ['team-a', '1.0.0'],
      ['team-b', '2.0.0'],
    ] as const) {
      const pkg = await providerPackage('hello', version, 'linux', 'amd64');
      r.versions.put(providerVersionResource({ type: 'hello', version, os: 'linux', arch: 'amd64', namespace, stored: await storeProvider(r.storage, namespace, pkg) }));
    }
    const index = '/opendepot/mirror/v1/registry.terraform.io/hashicorp/hello/index.json';
    assert.equal(await (await get(r, index, 'user:alice:team-a')).json(), { versions: { '1.0.0': {} } });
    assert.equal(await (await get(r, index, 'user:bob:team-b')).json(), { versions: { '2.0.0': {} } });
    const nobody = await get(r, index, 'user:carol:team-c');
    assert.is(nobody.status, 403);
    assert.equal(await nobody.json(), { errors: ['access to Provider team-a/hello, Provider team-b/hello is not granted: a grant for them is missing'] });
    // team-a's user cannot read team-b's version document, and gets its own with signed URLs.
    assert.is((await get(r, '/opendepot/mirror/v1/registry.terraform.io/hashicorp/hello/2.0.0.json', 'user:alice:team-a')).status, 403);
    const doc = (await (await get(r, '/opendepot/mirror/v1/registry.terraform.io/hashicorp/hello/1.0.0.json', 'user:alice:team-a')).json()) as { archives: Record<string, { url: string }> };
    assert.match(doc.archives.linux_amd64!.url, /team-a\/hello\/1\.0\.0\/terraform-provider-hello_1\.0\.0_linux_amd64\.zip\?od_exp=\d+&od_sig=/);
  });
});

test('with no provider at all every protected route is refused and discovery still answers', async () => {
  await withRegistry([], undefined, async (r) => {
    assert.is((await get(r, `${MODULES}/${NS}/foo/aws/versions`)).status, 401);
    assert.is((await get(r, '/.well-known/terraform.json')).status, 200);
  });
});

test('the auth cache keeps at most maxEntries, drops expired answers, and shares one load per key', async () => {
  let now = 0;
  const cache = new TtlCache<number>({ ttlSeconds: 10, maxEntries: 2, now: () => now });
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.is(cache.size, 2);
  assert.is(cache.get('a'), undefined, 'the oldest went first');
  assert.is(cache.get('c'), 3);
  now = 10_000;
  assert.is(cache.get('c'), undefined, 'expired');
  let loads = 0;
  const outcomes: string[] = [];
  const load = async () => {
    loads++;
    await new Promise((resolve) => setTimeout(resolve, 10));
    return 7;
  };
  const results = await Promise.all([1, 2, 3].map(() => cache.through('k', load, (o) => outcomes.push(o))));
  assert.equal(results, [7, 7, 7]);
  assert.is(loads, 1);
  assert.equal(outcomes, ['miss', 'hit', 'hit']);
});

test('the review gate runs at most its limit at once and lets every call through in turn', async () => {
  const gate = new Gate(2);
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      gate
        .run(async () => {
          peak = Math.max(peak, gate.active);
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (i === 3) throw new Error('one review failed');
          return i;
        })
        .catch((err: Error) => err.message),
    ),
  );
  assert.is(peak, 2);
  assert.equal(results, [0, 1, 2, 'one review failed', 4, 5, 6]);
  assert.is(gate.active, 0);
});

test('download URL signatures are bound to the artifact and expiry, and refuse short secrets', () => {
  let now = 1_000_000;
  const signer = new DownloadUrlSigner({ ttlSeconds: 60, now: () => now });
  const query = Object.fromEntries(new URLSearchParams(signer.query('module:ns/foo/aws/1.0.0/archive.zip')));
  assert.is(signer.verify('module:ns/foo/aws/1.0.0/archive.zip', query), 'valid');
  assert.is(signer.verify('module:ns/foo/aws/1.0.1/archive.zip', query), 'invalid');
  assert.is(signer.verify('module:ns/foo/aws/1.0.0/archive.zip', {}), 'missing');
  assert.is(signer.verify('module:ns/foo/aws/1.0.0/archive.zip', { ...query, od_sig: `${query.od_sig}x` }), 'invalid');
  assert.is(signer.verify('module:ns/foo/aws/1.0.0/archive.zip', { ...query, od_exp: 'soon' }), 'invalid');
  now += 61_000;
  assert.is(signer.verify('module:ns/foo/aws/1.0.0/archive.zip', query), 'expired');
  // Another replica with the same secret accepts it; one with another secret does not.
  const secret = Buffer.alloc(32, 1);
  const a = new DownloadUrlSigner({ ttlSeconds: 60, secret });
  const b = new DownloadUrlSigner({ ttlSeconds: 60, secret });
  const c = new DownloadUrlSigner({ ttlSeconds: 60 });
  const signed = Object.fromEntries(new URLSearchParams(a.query('x')));
  assert.is(b.verify('x', signed), 'valid');
  assert.is(c.verify('x', signed), 'invalid');
  assert.throws(() => new DownloadUrlSigner({ ttlSeconds: 60, secret: Buffer.alloc(8) }), /at least 32 bytes/);
});

test.run();
