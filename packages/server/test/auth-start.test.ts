/**
 * Access control from configuration (`auth:`) through `startServer`, against the real
 * kube-apiserver: anonymous access off, Kubernetes tokens and kubeconfigs on. The server warns at
 * start that kubeconfig tokens are not for production, refuses callers without a token, lets RBAC
 * decide for a ServiceAccount token and for a kubeconfig, exports the cache hit rate, and signs
 * download URLs with the key of `auth.downloadUrlSecretFile`. A scanner plugin in the shared
 * plugins list is the operator's: the server starts without making it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig } from '@opendepot/core';
import { dropNamespace, freshNamespace, kubectlOk, renderKubeconfig, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { artifactId, DownloadUrlSigner, startServer, type RunningServer } from '../src/index.ts';

const AUDIENCE = 'opendepot-start-test';
const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'auth-start');
let dir: string;
let server: RunningServer;
let token: string;
let apiServerToken: string;
let secret: Buffer;
const logs: Record<string, unknown>[] = [];

const k = (args: string[], input?: string): Promise<string> => kubectlOk(cp, args, input);

const moduleManifest = (name: string) =>
  JSON.stringify({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name, namespace: ns },
    spec: { moduleConfig: { name, provider: 'aws', repoUrl: `https://github.com/example/${name}` }, versions: [{ version: '1.0.0' }] },
  });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-auth-start-'));
  secret = randomBytes(32);
  await writeFile(join(dir, 'download-url-secret'), secret.toString('base64url'));
  for (const name of ['foo', 'bar']) await k(['apply', '-f', '-'], moduleManifest(name));
  await k(['create', 'serviceaccount', 'ci', '-n', ns]);
  await k(['create', 'role', 'reader', '-n', ns, '--verb=get', '--resource=modules.opendepot.defdev.io', '--resource-name=foo']);
  await k(['create', 'rolebinding', 'ci-reads', '-n', ns, '--role=reader', `--serviceaccount=${ns}:ci`]);
  token = (await k(['create', 'token', 'ci', '-n', ns, '--audience', AUDIENCE])).trim();
  apiServerToken = (await k(['create', 'token', 'ci', '-n', ns])).trim();

  const config = parseConfig(
    stringify({
      namespace: ns,
      // A scanner is the operator's: the server checks its config but never makes it (this cacheDir cannot be created).
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-trivy', config: { cacheDir: '/proc/opendepot-not-here/trivy' } }],
      storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: join(dir, 'storage') } } } },
      server: { port: 0, metricsPort: 0, host: '127.0.0.1' },
      auth: {
        anonymous: { enabled: false },
        kubernetes: { enabled: true, audiences: [AUDIENCE], cacheTtlSeconds: 5 },
        kubeconfig: { enabled: true },
        downloadUrlSecretFile: join(dir, 'download-url-secret'),
      },
    }),
    { env: {} },
  ).config;
  server = await startServer({ config, kubeconfigPath: cp.kubeconfigPath, logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } }) });
  await server.synced;
});

test.after(async () => {
  await server?.stop();
  await dropNamespace(cp, ns, ['roles', 'rolebindings', 'serviceaccounts']);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const versionsOf = (name: string, bearer?: string) =>
  fetch(`${server.listening.url}/opendepot/modules/v1/${ns}/${name}/aws/versions`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });

test('start-up names the auth methods and warns that kubeconfig tokens are not for production', () => {
  assert.ok(
    logs.some((l) => l.msg === 'auth methods' && JSON.stringify(l.providers) === '["kubernetes","kubeconfig"]'),
    JSON.stringify(logs.slice(0, 20)),
  );
  const warning = logs.find((l) => l.level === 'warn' && String(l.msg).includes('auth.kubeconfig is enabled'));
  assert.ok(warning);
  assert.match(String(warning.msg), 'do not use it in production');
});

test('no token: 401; discovery answers', async () => {
  const res = await versionsOf('foo');
  assert.is(res.status, 401);
  assert.is(res.headers.get('www-authenticate'), 'Bearer');
  assert.is((await fetch(`${server.listening.url}/.well-known/terraform.json`)).status, 200);
});

test('a ServiceAccount token and a kubeconfig of it: RBAC allows foo and refuses bar', async () => {
  assert.is((await versionsOf('foo', token)).status, 200);
  assert.is((await versionsOf('bar', token)).status, 403);
  const kubeconfig = Buffer.from(renderKubeconfig(cp.server, cp.caPem, apiServerToken)).toString('base64');
  assert.is((await versionsOf('foo', kubeconfig)).status, 200);
  assert.is((await versionsOf('bar', kubeconfig)).status, 403);
  assert.is((await versionsOf('foo', token)).status, 200);
  const metrics = await (await fetch(`${server.metrics.url}/metrics`)).text();
  assert.match(metrics, /opendepot_server_auth_cache_hit_ratio\{cache="tokenreview"\} 0\.\d+/);
  assert.match(metrics, /opendepot_server_auth_cache_lookups_total\{cache="subjectaccessreview",result="miss"\} [1-9]/);
});

test("download URLs are signed with the configured secret: its signatures pass, another key's do not", async () => {
  const file = `/opendepot/modules/v1/${ns}/foo/aws/1.0.0/archive.zip`;
  const id = artifactId('module', [ns, 'foo', 'aws', '1.0.0', 'archive.zip']);
  const ours = new DownloadUrlSigner({ ttlSeconds: 60, secret: Buffer.from(secret.toString('base64url')) }).query(id);
  // Past the signature check, the module has no ready version yet (no operator runs here): 404.
  assert.is((await fetch(`${server.listening.url}${file}?${ours}`)).status, 404);
  const theirs = new DownloadUrlSigner({ ttlSeconds: 60 }).query(id);
  assert.is((await fetch(`${server.listening.url}${file}?${theirs}`)).status, 403);
});

test.run();
