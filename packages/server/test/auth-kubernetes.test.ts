/**
 * Access control with Kubernetes credentials against the real kube-apiserver: every protected
 * route answers 401 (WWW-Authenticate: Bearer) without a token while discovery, health and the
 * signing key stay public; a ServiceAccount token whose Role allows `get` on the Module `foo`
 * reads foo and gets a 403 naming bar; an RBAC change takes effect within the cache TTL; signed
 * download URLs are needed without a token and refused when missing, expired or moved to another
 * artifact; base64 kubeconfigs are refused unless enabled; the audit lines never hold the token.
 */
import { createKubeClient, type KubeClient } from '@opendepot/core';
import { createSigningKey, dropNamespace, freshNamespace, kubectlOk, renderKubeconfig, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kubeconfigProvider, kubernetesProvider, signingKeyOf, type NamedAuthProvider, type RegistryServerOptions, type SigningKey } from '../src/index.ts';
import { moduleKey, moduleResource, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { providerPackage, providerVersionResource, storeProvider } from './support/providers.ts';

const AUDIENCE = 'opendepot-test';
const TTL_SECONDS = 2;
const MODULES = '/opendepot/modules/v1';
const PROVIDERS = '/opendepot/providers/v1';
const MIRROR = '/opendepot/mirror/v1';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'auth');
const client: KubeClient = createKubeClient({ kubeconfigPath: cp.kubeconfigPath, userAgent: 'opendepot-test' });
let key: SigningKey;
let token: string;
/** A token of the same ServiceAccount for the API server's own audience, not the registry's. */
let apiServerToken: string;

const k = (args: string[], input?: string): Promise<string> => kubectlOk(cp, args, input);

function role(moduleNames: string[]): string {
  return JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'registry-reader', namespace: ns },
    rules: [
      { apiGroups: ['opendepot.defdev.io'], resources: ['modules'], resourceNames: moduleNames, verbs: ['get'] },
      { apiGroups: ['opendepot.defdev.io'], resources: ['providers'], resourceNames: ['hello'], verbs: ['get'] },
    ],
  });
}

test.before(async () => {
  key = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Auth Test' })).privateKeyArmored);
  await k(['create', 'serviceaccount', 'ci', '-n', ns]);
  await k(['apply', '-f', '-'], role(['foo']));
  await k(['create', 'rolebinding', 'ci-reads', '-n', ns, '--role=registry-reader', `--serviceaccount=${ns}:ci`]);
  token = (await k(['create', 'token', 'ci', '-n', ns, '--audience', AUDIENCE, '--duration', '1h'])).trim();
  apiServerToken = (await k(['create', 'token', 'ci', '-n', ns, '--duration', '1h'])).trim();
});

test.after(async () => {
  await client.close();
  await dropNamespace(cp, ns, ['roles', 'rolebindings', 'serviceaccounts']);
});

interface Chain {
  kubernetes?: boolean;
  kubeconfig?: boolean;
  ttlSeconds?: number;
}

async function withRegistry(chain: Chain, run: (r: TestRegistry) => Promise<void>, extra: Partial<RegistryServerOptions['auth']> = {}): Promise<void> {
  let registry: TestRegistry | undefined;
  const common = {
    client,
    cacheTtlSeconds: TTL_SECONDS,
    cacheMaxEntries: 100,
    onCache: (cache: string, result: string) => registry?.registry.metrics.authCacheLookups.inc({ cache, result }),
  };
  const providers: NamedAuthProvider[] = [];
  if (chain.kubernetes ?? true) providers.push({ name: 'kubernetes', provider: kubernetesProvider({ ...common, audiences: [AUDIENCE], refuseKubeconfigs: !chain.kubeconfig }) });
  if (chain.kubeconfig) providers.push({ name: 'kubeconfig', provider: kubeconfigProvider(common) });
  registry = await startTestRegistry({ signingKey: key, auth: { providers, downloadUrlTtlSeconds: chain.ttlSeconds ?? 300, ...extra } });
  try {
    for (const name of ['foo', 'bar']) {
      const module = moduleResource({ name, namespace: ns, provider: 'aws' });
      registry.modules.put(module);
      const stored = await store(registry.storage, moduleKey(module, '1.0.0'), Buffer.from(`module ${name}`));
      registry.versions.put(versionResource({ owner: module, version: '1.0.0', stored }));
    }
    const pkg = await providerPackage('hello', '1.0.0', 'linux', 'amd64');
    const storedProvider = await storeProvider(registry.storage, ns, pkg);
    registry.versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os: 'linux', arch: 'amd64', namespace: ns, stored: storedProvider }));
    await run(registry);
  } finally {
    await registry.close();
  }
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function protectedPaths(): string[] {
  return [
    `${MODULES}/${ns}/foo/aws/versions`,
    `${MODULES}/${ns}/foo/aws/1.0.0/download`,
    `${MODULES}/${ns}/foo/aws/1.0.0/archive.zip`,
    `${MODULES}/${ns}/nonexistent/aws/versions`,
    `${PROVIDERS}/${ns}/hello/versions`,
    `${PROVIDERS}/${ns}/hello/1.0.0/download/linux/amd64`,
    `${PROVIDERS}/${ns}/hello/1.0.0/SHA256SUMS`,
    `${PROVIDERS}/${ns}/hello/1.0.0/SHA256SUMS.sig`,
    `${PROVIDERS}/${ns}/hello/1.0.0/terraform-provider-hello_1.0.0_linux_amd64.zip`,
    `${MIRROR}/registry.terraform.io/hashicorp/hello/index.json`,
    `${MIRROR}/registry.terraform.io/hashicorp/hello/1.0.0.json`,
  ];
}

test('without a token every protected route is 401 with WWW-Authenticate: Bearer; discovery, health and the signing key answer', async () => {
  await withRegistry({}, async (r) => {
    for (const path of protectedPaths()) {
      for (const headers of [{}, bearer('not-a-token'), bearer(apiServerToken)]) {
        const res = await fetch(`${r.url}${path}`, { headers });
        assert.is(res.status, 401, `${path} with ${JSON.stringify(Object.keys(headers))}`);
        assert.is(res.headers.get('www-authenticate'), 'Bearer', path);
        const body = (await res.json()) as { errors: string[] };
        assert.is(body.errors.length, 1);
      }
    }
    const discovery = await fetch(`${r.url}/.well-known/terraform.json`);
    assert.is(discovery.status, 200);
    assert.equal(await discovery.json(), { 'modules.v1': '/opendepot/modules/v1/', 'providers.v1': '/opendepot/providers/v1/' });
    assert.is((await fetch(`${r.url}/healthz`)).status, 200);
    assert.is((await fetch(`${r.url}/readyz`)).status, 200);
    assert.is((await fetch(`${r.url}${PROVIDERS}/signing-key.asc`)).status, 200);
  });
});

test('a ServiceAccount token reads the Module its Role allows and gets a 403 naming the other', async () => {
  await withRegistry({}, async (r) => {
    const foo = await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(token) });
    assert.is(foo.status, 200);
    assert.equal(await foo.json(), { modules: [{ versions: [{ version: '1.0.0' }] }] });
    const bar = await fetch(`${r.url}${MODULES}/${ns}/bar/aws/versions`, { headers: bearer(token) });
    assert.is(bar.status, 403);
    assert.equal(await bar.json(), { errors: [`access to Module ${ns}/bar is not granted: a grant for it is missing`] });
    const barDownload = await fetch(`${r.url}${MODULES}/${ns}/bar/aws/1.0.0/download`, { headers: bearer(token) });
    assert.is(barDownload.status, 403);
    // The Provider its Role names: versions, download, SHA256SUMS and the package with the token.
    assert.is((await fetch(`${r.url}${PROVIDERS}/${ns}/hello/versions`, { headers: bearer(token) })).status, 200);
    assert.is((await fetch(`${r.url}${PROVIDERS}/${ns}/hello/1.0.0/SHA256SUMS`, { headers: bearer(token) })).status, 200);
    const mirror = await fetch(`${r.url}${MIRROR}/registry.terraform.io/hashicorp/hello/index.json`, { headers: bearer(token) });
    assert.is(mirror.status, 200);
    assert.equal(await mirror.json(), { versions: { '1.0.0': {} } });

    // Audit: one line per decision, with subject and reason, never the token.
    const audit = r.logs.filter((l) => l.msg === 'access decision');
    const denied = audit.find((l) => l.decision === 'deny' && l.resource === `Module ${ns}/bar`);
    assert.ok(denied, JSON.stringify(audit));
    assert.is(denied.subject, `system:serviceaccount:${ns}:ci`);
    assert.is(denied.provider, 'kubernetes');
    assert.is(denied.reason, 'not granted by kubernetes');
    assert.ok(audit.some((l) => l.decision === 'allow' && l.resource === `Module ${ns}/foo`));
    assert.not.ok(JSON.stringify(r.logs).includes(token), 'the token must never be logged');
  });
});

test('an RBAC change takes effect within the cache TTL, and the cache hit rate is exported', async () => {
  await withRegistry({}, async (r) => {
    const bar = () => fetch(`${r.url}${MODULES}/${ns}/bar/aws/versions`, { headers: bearer(token) }).then((res) => res.status);
    assert.is(await bar(), 403);
    await k(['apply', '-f', '-'], role(['foo', 'bar']));
    try {
      const deadline = Date.now() + (TTL_SECONDS + 3) * 1000;
      let status = await bar();
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = await bar();
      }
      assert.is(status, 200, 'granted within the TTL');
    } finally {
      await k(['apply', '-f', '-'], role(['foo']));
    }
    // Taking the grant away works the same way.
    const deadline = Date.now() + (TTL_SECONDS + 3) * 1000;
    let status = await bar();
    while (status !== 403 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await bar();
    }
    assert.is(status, 403, 'revoked within the TTL');

    // Many requests in a row are answered from the caches.
    for (let i = 0; i < 10; i++) assert.is((await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(token) })).status, 200);
    const metrics = await (await fetch(`${r.metricsUrl}/metrics`)).text();
    const ratio = /opendepot_server_auth_cache_hit_ratio\{cache="subjectaccessreview"\} ([0-9.]+)/.exec(metrics);
    assert.ok(ratio, metrics);
    assert.ok(Number(ratio[1]) > 0.5, `hit ratio ${ratio[1]}`);
    assert.match(metrics, /opendepot_server_auth_decisions_total\{provider="kubernetes",decision="deny"\} [1-9]/);
  });
});

test('module download URLs are signed: the archive needs the signature without a token, and a missing, expired or moved one is refused', async () => {
  await withRegistry({}, async (r) => {
    const download = await fetch(`${r.url}${MODULES}/${ns}/foo/aws/1.0.0/download`, { headers: bearer(token) });
    assert.is(download.status, 204);
    const location = download.headers.get('x-terraform-get')!;
    assert.match(location, /^http:\/\/127\.0\.0\.1:\d+\/opendepot\/modules\/v1\/[^?]+\/archive\.zip\?checksum=sha256:[0-9a-f]{64}&od_exp=\d+&od_sig=[A-Za-z0-9_-]+$/);
    const signed = new URL(location, `${r.url}${MODULES}/${ns}/foo/aws/1.0.0/download`);
    const archive = await fetch(signed);
    assert.is(archive.status, 200);
    assert.is(await archive.text(), 'module foo');

    // Without the signature (and no token): 401.
    const unsigned = new URL(signed);
    unsigned.searchParams.delete('od_sig');
    unsigned.searchParams.delete('od_exp');
    assert.is((await fetch(unsigned)).status, 401);
    // Moved to another artifact (bar's archive, or another version): 403.
    const moved = new URL(signed.href.replace(`/${ns}/foo/`, `/${ns}/bar/`));
    const movedRes = await fetch(moved);
    assert.is(movedRes.status, 403);
    assert.equal(await movedRes.json(), { errors: ['this download URL is not valid for this artifact'] });
    // A changed expiry breaks the signature.
    const extended = new URL(signed);
    extended.searchParams.set('od_exp', String(Number(signed.searchParams.get('od_exp')) + 3600));
    assert.is((await fetch(extended)).status, 403);
    // A token granted the module still downloads without a signature; one that is not, does not.
    assert.is((await fetch(unsigned, { headers: bearer(token) })).status, 200);
    assert.is((await fetch(new URL(unsigned.href.replace(`/${ns}/foo/`, `/${ns}/bar/`)), { headers: bearer(token) })).status, 403);
  });
});

test('a signed download URL expires', async () => {
  await withRegistry({ ttlSeconds: 1 }, async (r) => {
    const download = await fetch(`${r.url}${MODULES}/${ns}/foo/aws/1.0.0/download`, { headers: bearer(token) });
    const signed = new URL(download.headers.get('x-terraform-get')!, `${r.url}${MODULES}/${ns}/foo/aws/1.0.0/download`);
    assert.is((await fetch(signed)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(signed);
    assert.is(expired.status, 403);
    assert.equal(await expired.json(), { errors: ['this download URL has expired: ask the registry for a new one'] });
  });
});

test('provider download_url, shasums_url and shasums_signature_url are signed and work without the token', async () => {
  await withRegistry({}, async (r) => {
    const base = `${r.url}${PROVIDERS}/${ns}/hello/1.0.0/download/linux/amd64`;
    const res = await fetch(base, { headers: bearer(token) });
    assert.is(res.status, 200);
    const body = (await res.json()) as { download_url: string; shasums_url: string; shasums_signature_url: string };
    for (const url of [body.download_url, body.shasums_url, body.shasums_signature_url]) {
      assert.match(url, /od_exp=\d+&od_sig=/);
      const signed = new URL(url, base);
      assert.is((await fetch(signed)).status, 200, url);
      const bare = new URL(signed);
      bare.searchParams.delete('od_sig');
      bare.searchParams.delete('od_exp');
      assert.is((await fetch(bare)).status, 401, url);
    }
    // The SHA256SUMS signature moved onto the package: refused.
    const sums = new URL(body.shasums_url, base);
    const moved = new URL(`${r.url}${PROVIDERS}/${ns}/hello/1.0.0/terraform-provider-hello_1.0.0_linux_amd64.zip${sums.search}`);
    assert.is((await fetch(moved)).status, 403);
    // The mirror's archive URLs are signed the same way.
    const mirrorUrl = `${r.url}${MIRROR}/registry.terraform.io/hashicorp/hello/1.0.0.json`;
    const mirror = (await (await fetch(mirrorUrl, { headers: bearer(token) })).json()) as { archives: Record<string, { url: string }> };
    const archiveUrl = new URL(mirror.archives.linux_amd64!.url, mirrorUrl);
    assert.match(archiveUrl.search, /od_sig=/);
    assert.is((await fetch(archiveUrl)).status, 200);
  });
});

test('a base64 kubeconfig is refused unless enabled; enabled, it authenticates as its user and RBAC decides', async () => {
  // A kubeconfig of the ServiceAccount (its token for the API server's own audience), pointing at
  // another server: only its credentials count, checked against the registry's own API server.
  const kubeconfig = Buffer.from(renderKubeconfig('https://127.0.0.1:1', cp.caPem, apiServerToken)).toString('base64');
  await withRegistry({}, async (r) => {
    const res = await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(kubeconfig) });
    assert.is(res.status, 401);
    assert.is(res.headers.get('www-authenticate'), 'Bearer');
    assert.ok(r.logs.some((l) => l.msg === 'access decision' && l.reason === 'kubeconfig tokens are not enabled (auth.kubeconfig.enabled)'));
    assert.not.ok(JSON.stringify(r.logs).includes(kubeconfig));
  });
  await withRegistry({ kubeconfig: true }, async (r) => {
    assert.is((await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(kubeconfig) })).status, 200);
    const bar = await fetch(`${r.url}${MODULES}/${ns}/bar/aws/versions`, { headers: bearer(kubeconfig) });
    assert.is(bar.status, 403);
    const allowed = r.logs.find((l) => l.msg === 'access decision' && l.decision === 'allow');
    assert.is(allowed?.subject, `system:serviceaccount:${ns}:ci`);
    assert.is(allowed?.provider, 'kubeconfig');
    // Exec plugins and files are never used: such a kubeconfig is refused.
    const exec = Buffer.from(
      `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: x, user: u}}]\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {exec: {command: /bin/sh, args: ["-c", "touch /tmp/pwned"], apiVersion: client.authentication.k8s.io/v1}}}]\n`,
    ).toString('base64');
    assert.is((await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(exec) })).status, 401);
    // A kubeconfig whose token the cluster does not accept.
    const bogus = Buffer.from(renderKubeconfig('https://127.0.0.1:1', cp.caPem, 'not-a-real-token-at-all')).toString('base64');
    assert.is((await fetch(`${r.url}${MODULES}/${ns}/foo/aws/versions`, { headers: bearer(bogus) })).status, 401);
  });
});

test.run();
