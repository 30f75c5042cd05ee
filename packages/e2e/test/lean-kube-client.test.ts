/**
 * The server and the operator do not load @kubernetes/client-node (~65 MB, seconds of start-up)
 * in the common case: their entries' import graphs lack it, and core's client reaching the real
 * kube-apiserver with a token kubeconfig does not import it. A kubeconfig whose user runs an exec
 * plugin does load it (the fallback), which also shows the recording sees a dynamic import.
 * The server's entry also leaves openpgp, markdown-it and openid-client until first use.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const execFileAsync = promisify(execFile);
const cp = await useControlPlane();
const dir = await mkdtemp(join(tmpdir(), 'opendepot-lean-kube-'));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLIENT_NODE = /@kubernetes[+/]client-node/;
/** Libraries the server imports only when a feature needs them: signing, README pages, browser sign-in. */
const LOADED_ON_USE = /node_modules\/(\.pnpm\/)?(openpgp|markdown-it|openid-client)[@/]/;

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `script args` with the recording hook; returns the URLs of every module it resolved. */
async function resolvedBy(name: string, script: string, args: string[]): Promise<string[]> {
  const log = join(dir, `${name}.resolved`);
  await execFileAsync(process.execPath, ['--conditions=opendepot-source', '--import', here('./support/record-resolved.mjs'), script, ...args], {
    env: { ...process.env, RECORD_RESOLVED_TO: log },
  });
  return (await readFile(log, 'utf8')).split('\n');
}

test("the server's and the operator's entries do not import client-node", async () => {
  for (const entry of ['../../server/src/main.ts', '../../operator/src/main.ts']) {
    // --help: the entry's whole import graph loads, then it prints its usage and exits.
    const resolved = await resolvedBy(entry.split('/')[2]!, here(entry), ['--help']);
    assert.ok(
      resolved.some((url) => url.endsWith('/core/src/k8s/client.ts')),
      `${entry} loads core's Kubernetes client (the recording works): ${resolved.length} modules`,
    );
    assert.equal(
      resolved.filter((url) => CLIENT_NODE.test(url)),
      [],
      entry,
    );
    if (entry.includes('/server/')) {
      // ~10 MB of resident memory at idle (BENCHMARKS.md, cold start): loaded on first use only.
      assert.equal(
        resolved.filter((url) => LOADED_ON_USE.test(url)),
        [],
        `${entry} loads openpgp, markdown-it or openid-client at start`,
      );
    }
  }
});

test('requests with a token kubeconfig do not load client-node; an exec user does', async () => {
  const probe = here('./support/kube-client-probe.ts');
  const tokenResolved = await resolvedBy('token', probe, [cp.kubeconfigPath]);
  assert.equal(
    tokenResolved.filter((url) => CLIENT_NODE.test(url)),
    [],
  );

  const plugin = join(dir, 'get-token.sh');
  await writeFile(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${cp.token}"}}'\n`);
  await chmod(plugin, 0o755);
  const exec = join(dir, 'exec.kubeconfig');
  const ca = Buffer.from(cp.caPem).toString('base64');
  await writeFile(
    exec,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: cp.server, 'certificate-authority-data': ca } }],
      users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    }),
  );
  const execResolved = await resolvedBy('exec', probe, [exec]);
  assert.ok(
    execResolved.some((url) => CLIENT_NODE.test(url)),
    'the exec user is served by client-node',
  );
});

test.run();
