/**
 * The Depot against real components: the announcement's manifest, unchanged but for its
 * namespace, pointed at local stand-ins of GitHub and the HashiCorp Releases API; polling that
 * picks up new matching releases only; per-entry failure; and migration from a git remote with
 * the Depot deleted afterwards and `tofu init` still installing every version.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, createSigningKey, startGithubStandin, startHashicorpReleasesStandin, type GithubStandin, type HashicorpReleasesStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';

interface Obj {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: unknown[] };
  spec: { versions?: { version: string }[]; operatingSystem?: string; architecture?: string; version?: string; providerConfig?: { operatingSystems: string[] } };
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    entries?: { kind: string; name: string; ready: boolean; reason: string; message: string; versionsFound?: number; versionsSelected?: number }[];
    lastPollTime?: string;
    lastHandledPollRequest?: string;
  };
}

const announcement = fileURLToPath(new URL('../../core/test/fixtures/manifests/announcement/depot.yaml', import.meta.url));
const files = (v: string) => ({ 'main.tf': `output "version" {\n  value = "${v}"\n}\n` });
let env: RegistryEnv;
let github: GithubStandin;
let releases: HashicorpReleasesStandin;

const versionsOf = (o: Obj) => (o.spec.versions ?? []).map((v) => v.version).sort();
const list = async (kind: string, selector: string) => {
  const r = await env.kubectl(['get', kind, '-n', env.namespace, '-l', selector, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};
const pollNow = (name: string, value: string) => env.kubectl(['annotate', '--overwrite', '-n', env.namespace, 'depot', name, `opendepot.defdev.io/requested-poll=${value}`]);
const polled = (name: string, value: string) =>
  eventually(
    `Depot ${name} polled (${value})`,
    async () => {
      const d = await env.get<Obj>('depot', name);
      return d.status?.lastHandledPollRequest === value ? d : undefined;
    },
    60_000,
  );

test.before(async () => {
  // The announcement's Depot uses an authenticated GitHub client: the stand-in insists on the token.
  github = await startGithubStandin({ token: 'ghp_depot_test_token' });
  github.addRepo('terraform-aws-modules', 'terraform-aws-eks', {
    releases: ['21.9.0', '21.10.1', '21.11.0', '21.12.0', '21.13.0', '21.14.0'].map((v) => ({ tag: `v${v}`, files: files(v) })),
  });
  github.addRepo('azure', 'terraform-azurerm-aks', { releases: ['9.5.0', '10.0.0', '10.1.0'].map((v) => ({ tag: v, files: files(v) })) });
  const key = await createSigningKey({ name: 'HashiCorp stand-in' });
  releases = await startHashicorpReleasesStandin({ signingKey: key });
  const platforms = ['linux', 'darwin'].flatMap((os) => ['amd64', 'arm64'].map((arch) => ({ os, arch })));
  for (const v of ['5.79.0', '5.80.0', '5.81.0', '6.0.0']) await releases.addRelease('terraform-provider-aws', v, { platforms });
  env = await startRegistryEnv({
    config: {
      // The platform's S3 profile for the announcement's storageConfig (bucket opendepot-registry in
      // us-west-2); this test checks what the Depot creates, so its endpoint is a closed local port.
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-s3' }],
      storage: {
        profiles: {
          aws: {
            s3: { bucket: 'opendepot-registry', region: 'us-west-2', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, allowedEndpointHosts: ['127.0.0.1'] },
            tenantSettable: { bucket: ['opendepot-*'], region: ['us-west-2'] },
          },
        },
      },
      operator: {
        github: { apiUrl: github.url },
        providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [key.publicKeyArmored], allowInsecureHttp: true },
      },
    },
  });
});

test.after(async () => {
  await env?.stop();
  await github?.close();
  await releases?.close();
});

test.before(async () => {
  const secret = await env.kubectl(['create', 'secret', 'generic', 'opendepot-github-application-secret', '-n', env.namespace, '--from-literal=token=ghp_depot_test_token']);
  assert.is(secret.code, 0, secret.stderr);
});

test("the announcement's Depot makes the Modules and the Provider with exactly the matching versions, for each OS and architecture", async () => {
  const manifest = (await readFile(announcement, 'utf8')).replace('namespace: opendepot-system', `namespace: ${env.namespace}`);
  const applied = await env.kubectl(['apply', '-f', '-'], manifest);
  assert.is(applied.code, 0, applied.stderr);
  const name = (parse(manifest) as Obj).metadata.name;
  const depot = await eventually(
    'the Depot polled',
    async () => {
      const d = await env.get<Obj>('depot', name);
      return d.status?.lastPollTime ? d : undefined;
    },
    60_000,
  );
  assert.ok(
    depot.status?.entries?.every((e) => e.ready),
    JSON.stringify(depot.status?.entries),
  );
  assert.equal(versionsOf(await env.get<Obj>('module', 'terraform-aws-eks')), ['21.10.1', '21.11.0', '21.12.0', '21.14.0']);
  assert.equal(versionsOf(await env.get<Obj>('module', 'terraform-azurerm-aks')), ['10.0.0', '10.1.0']);
  const aws = await env.get<Obj>('provider', 'aws');
  assert.equal(versionsOf(aws), ['5.80.0', '5.81.0']);
  assert.equal(aws.spec.providerConfig?.operatingSystems, ['linux', 'darwin']);
  // Not owned by the Depot (deleting it must not delete them), only labelled.
  assert.is(aws.metadata.ownerReferences, undefined);
  assert.is(aws.metadata.labels?.['opendepot.defdev.io/depot'], name);
  const platforms = await eventually(
    '8 provider Versions',
    async () => {
      const vs = await list('versions', 'opendepot.defdev.io/owner-name=aws');
      return vs.length === 8 ? vs : undefined;
    },
    30_000,
  );
  assert.equal([...new Set(platforms.map((v) => `${v.spec.operatingSystem}_${v.spec.architecture}`))].sort(), ['darwin_amd64', 'darwin_arm64', 'linux_amd64', 'linux_arm64']);
  const entry = depot.status!.entries!.find((e) => e.name === 'terraform-aws-eks')!;
  assert.is(entry.versionsFound, 6);
  assert.is(entry.versionsSelected, 4);
});

test('a new matching release appears after the next poll; a non-matching one never does; hand edits outside the Depot fields stay', async () => {
  github.addRelease('terraform-aws-modules', 'terraform-aws-eks', { tag: 'v21.15.0', files: files('21.15.0') });
  github.addRelease('terraform-aws-modules', 'terraform-aws-eks', { tag: 'v21.9.1', files: files('21.9.1') });
  await releases.addRelease('terraform-provider-aws', '5.82.0', { platforms: [{ os: 'linux', arch: 'amd64' }] });
  // A hand-added version and label on the Module: the Depot must neither remove nor fight them.
  await env.kubectl(['label', '-n', env.namespace, 'module', 'terraform-aws-eks', 'team=platform']);
  await pollNow('my-team-depot', 'poll-1');
  await polled('my-team-depot', 'poll-1');
  const eks = await env.get<Obj>('module', 'terraform-aws-eks');
  assert.equal(versionsOf(eks), ['21.10.1', '21.11.0', '21.12.0', '21.14.0', '21.15.0']);
  assert.is(eks.metadata.labels?.team, 'platform');
  assert.equal(versionsOf(await env.get<Obj>('provider', 'aws')), ['5.80.0', '5.81.0', '5.82.0']);
});

test('one entry whose upstream fails shows its own condition while the others still sync', async () => {
  github.failNext(0);
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Depot',
    metadata: { name: 'mixed' },
    spec: {
      global: { githubClientConfig: { useAuthenticatedClient: true } },
      moduleConfigs: [
        { name: 'terraform-aws-eks-copy', provider: 'aws', repoUrl: 'https://github.com/terraform-aws-modules/terraform-aws-eks', versionConstraints: '>= 21.14.0' },
        { name: 'missing', provider: 'aws', repoOwner: 'nobody', versionConstraints: '>= 1.0.0' },
      ],
    },
  });
  const depot = await eventually(
    'mixed polled',
    async () => {
      const d = await env.get<Obj>('depot', 'mixed');
      return d.status?.entries?.length === 2 ? d : undefined;
    },
    60_000,
  );
  const [ok, bad] = [depot.status!.entries!.find((e) => e.name === 'terraform-aws-eks-copy')!, depot.status!.entries!.find((e) => e.name === 'missing')!];
  assert.ok(ok.ready, JSON.stringify(ok));
  assert.not.ok(bad.ready);
  assert.is(bad.reason, 'NotFound');
  assert.match(bad.message, /nobody\/missing/);
  assert.equal(versionsOf(await env.get<Obj>('module', 'terraform-aws-eks-copy')), ['21.14.0', '21.15.0']);
  assert.is((await env.kubectl(['get', 'module', '-n', env.namespace, 'missing'])).code, 1, 'no Module for the failed entry');
  const ready = depot.status!.conditions!.find((c) => c.type === 'Ready')!;
  assert.is(ready.status, 'False');
  assert.match(ready.message, /1 of 2 entries failed; Module missing/);
});

test('migration: a Depot ingests every version within a constraint from a git remote, is deleted, and tofu init still installs each', async () => {
  const versions = ['0.9.0', '1.0.0', '1.1.0', '1.2.0'];
  const repo = await createGitRepo(join(env.dir, 'legacy'), { tags: Object.fromEntries(versions.map((v) => [`v${v}`, files(v)])) });
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Depot',
    metadata: { name: 'migration' },
    spec: {
      global: { moduleConfig: { fileFormat: 'tar.gz', immutable: true }, storageConfig: { filesystem: { path: env.storagePath } } },
      moduleConfigs: [{ name: 'legacy', provider: 'aws', repoUrl: repo.url, versionConstraints: '>= 1.0.0' }],
    },
  });
  await eventually(
    'legacy Ready',
    async () => {
      const m = await env.get<Obj>('module', 'legacy');
      return m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? m : undefined;
    },
    90_000,
  );
  assert.equal(versionsOf(await env.get<Obj>('module', 'legacy')), ['1.0.0', '1.1.0', '1.2.0']);
  const deleted = await env.kubectl(['delete', 'depot', '-n', env.namespace, 'migration', '--wait=true']);
  assert.is(deleted.code, 0, deleted.stderr);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.is((await env.kubectl(['get', 'module', '-n', env.namespace, 'legacy'])).code, 0, 'the Module survives its Depot');
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
    const run = await env.client('tofu', `module "legacy" {\n  source  = "${HOST}/${env.namespace}/legacy/aws"\n  version = "${v}"\n}\n`);
    assert.is(run.code, 0, run.output);
    assert.match(run.output, `Downloading ${HOST}/${env.namespace}/legacy/aws ${v} for legacy...`);
  }
});

test.run();
