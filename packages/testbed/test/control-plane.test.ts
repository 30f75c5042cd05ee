import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureTool, kubectl, startControlPlane, useControlPlane } from '../src/index.ts';

const run = promisify(execFile);

test('the shared control plane is a real kube-apiserver 1.33+ that serves the OpenDepot CRDs', async () => {
  const cp = await useControlPlane();
  const version = await kubectl(cp, ['version', '-o', 'json']);
  assert.is(version.code, 0, version.stderr);
  const server = JSON.parse(version.stdout).serverVersion;
  assert.ok(Number(server.minor) >= 33, `server minor ${server.minor}`);
  const crds = await kubectl(cp, ['get', 'crd', '-o', 'name']);
  assert.is(crds.code, 0, crds.stderr);
  for (const plural of ['modules', 'versions', 'providers', 'depots', 'groupbindings']) {
    assert.ok(crds.stdout.includes(`${plural}.opendepot.defdev.io`), `CRD ${plural} missing in:\n${crds.stdout}`);
  }
});

test('a control plane of its own starts on free loopback ports and stops without leaving processes', async () => {
  const cp = await startControlPlane({ crdsDir: false });
  assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ns = await kubectl(cp, ['create', 'namespace', 'teardown-check']);
  assert.is(ns.code, 0, ns.stderr);
  const port = new URL(cp.server).port;
  await cp.stop();
  assert.not.ok(existsSync(cp.dir), 'working directory removed');
  const { stdout } = await run('ps', ['-eo', 'args']);
  assert.not.ok(stdout.includes(`--secure-port=${port}`), 'kube-apiserver still running after stop()');
});

test('tofu 1.12, Terraform 1.5.7 and helm 3 are real binaries', async () => {
  const tofu = await run(await ensureTool('tofu'), ['version']);
  assert.match(tofu.stdout, /OpenTofu v1\.12\.\d+\n/);
  const terraform = await run(await ensureTool('terraform'), ['version']);
  assert.match(terraform.stdout, /Terraform v1\.5\.7\n/);
  const helm = await run(await ensureTool('helm'), ['version', '--short']);
  assert.match(helm.stdout, /^v3\.\d+\.\d+/);
});

test.run();
