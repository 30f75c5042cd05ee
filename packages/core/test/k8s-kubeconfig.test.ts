/**
 * The lean kubeconfig loader and its transport: kubectl's merge of `KUBECONFIG` files, contexts,
 * relative paths, the default discovery, then against the real kube-apiserver: tokens, a token
 * file re-read on rotation, the in-cluster service account, CA checks and insecure-skip-tls-verify,
 * client certificates, and an exec user served through the client-node fallback.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isOpenDepotError } from '@opendepot/sdk';
import { createTestCertificates, startControlPlane, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createKubeClient, inClusterConnection, loadKubeConnection, type KubeClient, type KubeConnection } from '../src/k8s/index.ts';
import { readKubeconfigFiles } from '../src/k8s/kubeconfig-files.ts';

const cp = await useControlPlane();
const dir = await mkdtemp(join(tmpdir(), 'opendepot-kubeconfig-'));

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A kubeconfig document (JSON is YAML). */
function kubeconfig(parts: { current?: string; clusters?: Record<string, object>; users?: Record<string, object>; contexts?: Record<string, object> }): string {
  const list = (map: Record<string, object> | undefined, field: string) => Object.entries(map ?? {}).map(([name, value]) => ({ name, [field]: value }));
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    ...(parts.current && { 'current-context': parts.current }),
    clusters: list(parts.clusters, 'cluster'),
    users: list(parts.users, 'user'),
    contexts: list(parts.contexts, 'context'),
  });
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** Lists namespaces: the simplest request every admin may make. */
async function listNamespaces(client: KubeClient): Promise<number> {
  try {
    const list = await client.request<{ items: unknown[] }>({ path: '/api/v1/namespaces' });
    return list.items.length;
  } finally {
    await client.close();
  }
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

test('KUBECONFIG files merge as kubectl does: the first to set a name or current-context wins, missing files are skipped', async () => {
  const a = await file(
    'merge/a.yaml',
    kubeconfig({
      current: 'ctx-a',
      clusters: { shared: { server: 'https://a.example:6443', 'certificate-authority': 'ca-a.pem' } },
      users: { alice: { token: 'token-a' } },
      contexts: { 'ctx-a': { cluster: 'shared', user: 'alice', namespace: 'team-a' } },
    }),
  );
  const b = await file(
    'merge/sub/b.yaml',
    kubeconfig({
      current: 'ctx-b',
      clusters: { shared: { server: 'https://b.example:6443' }, other: { server: 'https://other.example', 'insecure-skip-tls-verify': true, 'tls-server-name': 'api.internal' } },
      users: { alice: { token: 'token-b' }, bob: { tokenFile: 'bob.token' } },
      contexts: { 'ctx-b': { cluster: 'other', user: 'bob' } },
    }),
  );
  await file('merge/ca-a.pem', 'CA OF A');
  const merged = readKubeconfigFiles([a, join(dir, 'merge/missing.yaml'), b]);
  assert.equal(merged.files, [a, b]);
  assert.is(merged.currentContext, 'ctx-a');
  assert.is(merged.clusters.get('shared')?.server, 'https://a.example:6443', 'the first file wins');
  assert.is(merged.clusters.get('shared')?.['certificate-authority'], join(dir, 'merge/ca-a.pem'), 'relative to the file that names it');
  assert.is(merged.users.get('bob')?.tokenFile, join(dir, 'merge/sub/bob.token'));

  const env = { KUBECONFIG: [a, b].join(delimiter), HOME: join(dir, 'no-home') };
  const current = loadKubeConnection({}, env);
  assert.is(current.server, 'https://a.example:6443');
  assert.is(current.namespace, 'team-a');
  assert.equal(current.credentials, { kind: 'token', token: 'token-a' });
  assert.is(current.tls.ca?.toString(), 'CA OF A');

  const other = loadKubeConnection({ context: 'ctx-b' }, env);
  assert.is(other.server, 'https://other.example');
  assert.is(other.namespace, 'default');
  assert.equal(other.tls, { insecureSkipVerify: true, serverName: 'api.internal' });
  assert.equal(other.credentials, { kind: 'token-file', path: join(dir, 'merge/sub/bob.token') });

  const missing = await rejects(Promise.resolve().then(() => loadKubeConnection({ context: 'nope' }, env)));
  assert.match(missing.message, /no context named nope \(contexts: ctx-a, ctx-b\)/);
});

test('the default discovery: ~/.kube/config, then in-cluster, else an error saying what to set', async () => {
  const home = join(dir, 'home');
  await file(
    'home/.kube/config',
    kubeconfig({ current: 'c', clusters: { k: { server: 'https://home.example' } }, users: { u: { username: 'admin', password: 'secret' } }, contexts: { c: { cluster: 'k', user: 'u' } } }),
  );
  const fromHome = loadKubeConnection({}, { HOME: home });
  assert.is(fromHome.server, 'https://home.example');
  assert.equal(fromHome.credentials, { kind: 'basic', username: 'admin', password: 'secret' });
  const none = await rejects(Promise.resolve().then(() => loadKubeConnection({}, { HOME: join(dir, 'empty-home') })));
  assert.match(none.message, /set KUBECONFIG/);
  const notInPod = await rejects(Promise.resolve().then(() => loadKubeConnection({ inCluster: true }, {})));
  assert.match(notInPod.message, /KUBERNETES_SERVICE_HOST/);
});

test('users core does not handle (exec, auth-provider, proxy-url, impersonation) are left to client-node, with the merged document', async () => {
  const path = await file(
    'delegated.yaml',
    kubeconfig({
      current: 'exec',
      clusters: { k: { server: 'https://k.example', 'certificate-authority-data': b64('CA') }, proxied: { server: 'https://p.example', 'proxy-url': 'http://proxy:3128' } },
      users: { e: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'get-token' } }, t: { token: 't' }, i: { token: 't', as: 'someone' } },
      contexts: { exec: { cluster: 'k', user: 'e' }, proxied: { cluster: 'proxied', user: 't' }, impersonating: { cluster: 'k', user: 'i' } },
    }),
  );
  const exec = loadKubeConnection({ kubeconfigPath: path });
  assert.is(exec.credentials.kind, 'client-node');
  assert.is(exec.tls.ca?.toString(), 'CA', "the cluster's verification is still read");
  const doc = JSON.parse((exec.credentials as { kubeconfig: string }).kubeconfig) as { 'current-context': string };
  assert.is(doc['current-context'], 'exec');
  assert.match((loadKubeConnection({ kubeconfigPath: path, context: 'proxied' }).credentials as { reason: string }).reason, /proxy-url/);
  assert.match((loadKubeConnection({ kubeconfigPath: path, context: 'impersonating' }).credentials as { reason: string }).reason, /\bas\b/);
});

test('a bad kubeconfig names the file and the field', async () => {
  const path = await file(
    'bad.yaml',
    kubeconfig({ current: 'c', clusters: { k: { server: 'https://k.example' } }, users: { u: { 'client-certificate-data': b64('cert') } }, contexts: { c: { cluster: 'k', user: 'u' } } }),
  );
  assert.match((await rejects(Promise.resolve().then(() => loadKubeConnection({ kubeconfigPath: path })))).message, /user u: client-certificate and client-key go together/);
  const noServer = await file('no-server.yaml', kubeconfig({ current: 'c', clusters: { k: {} }, contexts: { c: { cluster: 'k' } } }));
  assert.match((await rejects(Promise.resolve().then(() => loadKubeConnection({ kubeconfigPath: noServer })))).message, /no current cluster: context c names cluster "k", which has no server/);
  const notYaml = await file('not-yaml.yaml', 'clusters: [');
  assert.match((await rejects(Promise.resolve().then(() => loadKubeConnection({ kubeconfigPath: notYaml })))).message, /not-yaml\.yaml is not a readable kubeconfig/);
});

test('a token file is re-read on every request, so a rotated token is picked up', async () => {
  const tokenFile = await file('rotating.token', `${cp.token}\n`);
  const path = await file(
    'token-file.yaml',
    kubeconfig({ current: 'c', clusters: { k: { server: cp.server, 'certificate-authority-data': b64(cp.caPem) } }, users: { u: { tokenFile } }, contexts: { c: { cluster: 'k', user: 'u' } } }),
  );
  const client = createKubeClient({ kubeconfigPath: path });
  try {
    assert.ok((await client.request<{ items: unknown[] }>({ path: '/api/v1/namespaces' })).items.length > 0);
    await writeFile(tokenFile, 'not-a-valid-token');
    const refused = await rejects(client.request({ path: '/api/v1/namespaces' }));
    assert.ok(isOpenDepotError(refused, 'unauthenticated'), String(refused));
    await writeFile(tokenFile, cp.token);
    assert.ok((await client.request<{ items: unknown[] }>({ path: '/api/v1/namespaces' })).items.length > 0);
  } finally {
    await client.close();
  }
});

test('in-cluster: the service host and port, the mounted CA, token and namespace', async () => {
  const sa = join(dir, 'serviceaccount');
  await file('serviceaccount/ca.crt', cp.caPem);
  await file('serviceaccount/token', cp.token);
  await file('serviceaccount/namespace', 'opendepot-system\n');
  const url = new URL(cp.server);
  const connection = inClusterConnection({ KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, sa);
  assert.is(connection.server, cp.server);
  assert.is(connection.namespace, 'opendepot-system');
  const client = createKubeClient({ connection });
  assert.is(client.namespace, 'opendepot-system');
  assert.ok((await listNamespaces(client)) > 0);
  const v6 = inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  assert.is(v6.server, 'https://[fd00::1]:443');
});

test("the server's certificate is checked against the CA; insecure-skip-tls-verify skips the check", async () => {
  const other = await createTestCertificates({ commonName: 'another CA' });
  const withCa = (cluster: object) => ({ server: cp.server, namespace: 'default', tls: cluster, credentials: { kind: 'token', token: cp.token } }) satisfies KubeConnection;
  const wrongCa = createKubeClient({ connection: withCa({ ca: Buffer.from(other.caPem) }), requestTimeoutMs: 5_000 });
  const refused = await rejects(listNamespaces(wrongCa));
  assert.match(refused.message, /GET \/api\/v1\/namespaces failed: .*(certificate|self.signed)/i);
  assert.ok((await listNamespaces(createKubeClient({ connection: withCa({ insecureSkipVerify: true }) }))) > 0);
});

test('an exec user goes through the client-node fallback and works', async () => {
  const plugin = await file('get-token.sh', `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${cp.token}"}}'\n`);
  await chmod(plugin, 0o755);
  const path = await file(
    'exec.yaml',
    kubeconfig({
      current: 'c',
      clusters: { k: { server: cp.server, 'certificate-authority-data': b64(cp.caPem) } },
      users: { u: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } },
      contexts: { c: { cluster: 'k', user: 'u' } },
    }),
  );
  const client = createKubeClient({ kubeconfigPath: path });
  assert.is(client.connection.credentials.kind, 'client-node');
  assert.ok((await listNamespaces(client)) > 0);
});

test('client certificates authenticate (an API server of its own, trusting a CA made here)', async () => {
  const certs = await createTestCertificates({ commonName: 'client CA', clientSubject: 'CN=cert-admin, O=system:masters' });
  const pki = join(dir, 'pki');
  await mkdir(pki);
  await writeFile(join(pki, 'ca.crt'), certs.caPem);
  await writeFile(join(pki, 'client.crt'), certs.certPem);
  await writeFile(join(pki, 'client.key'), certs.keyPem);
  const own = await startControlPlane({ extraApiServerArgs: [`--client-ca-file=${join(pki, 'ca.crt')}`] });
  try {
    const path = await file(
      'certs.yaml',
      kubeconfig({
        current: 'c',
        clusters: { k: { server: own.server, 'certificate-authority-data': b64(own.caPem) } },
        users: { u: { 'client-certificate': join(pki, 'client.crt'), 'client-key': join(pki, 'client.key') } },
        contexts: { c: { cluster: 'k', user: 'u' } },
      }),
    );
    const kube = createKubeClient({ kubeconfigPath: path });
    const review = await kube.request<{ status: { userInfo: { username: string; groups: string[] } } }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    assert.is(review.status.userInfo.username, 'cert-admin');
    assert.ok(review.status.userInfo.groups.includes('system:masters'));
    assert.ok((await listNamespaces(kube)) > 0);
  } finally {
    await own.stop();
  }
});

test.run();
