/**
 * Modules end to end, all real: Module manifests applied to kube-apiserver, the operator
 * ingesting them from a git remote and from a GitHub stand-in, filesystem storage, the server
 * over HTTPS, and `tofu init` / Terraform 1.5.7 `terraform init` resolving `~> 1.2.0`.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { createGitRepo, startGithubStandin, type GithubStandin, type RepoFiles } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';

const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];

interface Obj {
  metadata: { name: string };
  spec: Record<string, unknown> & { version?: string };
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; checksum?: string; size?: number; storageKey?: string; progress?: string; latestVersion?: string };
}

const moduleFiles = (version: string): RepoFiles => ({
  'main.tf': `output "version" {\n  value = "${version}"\n}\n`,
  'README.md': `# example ${version}\n`,
});

let env: RegistryEnv;
let github: GithubStandin;

const ready = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};
const twoModules = (version = '~> 1.2.0') => `
module "network" {
  source  = "${HOST}/NS/network/aws"
  version = "${version}"
}

module "cluster" {
  source  = "${HOST}/NS/cluster/aws"
  version = "${version}"
}
`;

test.before(async () => {
  github = await startGithubStandin();
  github.addRepo('acme', 'terraform-aws-cluster', { releases: VERSIONS.map((v) => ({ tag: `v${v}`, files: moduleFiles(v) })) });
  env = await startRegistryEnv({ config: { operator: { github: { apiUrl: github.url } } }, verifyIntervalSeconds: 2 });
  const repo = await createGitRepo(join(env.dir, 'network-repo'), { tags: Object.fromEntries(VERSIONS.map((v) => [v === '1.2.5' ? v : `v${v}`, moduleFiles(v)])) });
  const versions = VERSIONS.map((version) => ({ version }));
  await env.apply(
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Module',
      metadata: { name: 'network' },
      spec: { moduleConfig: { name: 'network', provider: 'aws', repoUrl: repo.url, fileFormat: 'zip', immutable: true }, versions },
    },
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Module',
      metadata: { name: 'cluster' },
      spec: {
        moduleConfig: { name: 'cluster', provider: 'aws', repoOwner: 'acme', repoUrl: 'https://github.com/acme/terraform-aws-cluster', fileFormat: 'tar.gz' },
        storageConfig: { filesystem: { path: env.storagePath } },
        versions,
      },
    },
  );
});

test.after(async () => {
  await env?.stop();
  await github?.close();
});

test('both Modules become Ready with 4/4 synced; every Version records checksum, size and storage key', async () => {
  for (const name of ['network', 'cluster']) {
    const module = await eventually(
      `Module ${name} Ready`,
      async () => {
        const m = await env.get<Obj>('module', name);
        return ready(m) ? m : undefined;
      },
      90_000,
    );
    assert.is(module.status?.progress, '4/4');
    assert.is(module.status?.latestVersion, '1.3.0');
    const versions = await versionsOf(name);
    assert.is(versions.length, 4);
    for (const v of versions) {
      assert.ok(ready(v), `${v.metadata.name} Ready`);
      assert.match(v.status?.checksum ?? '', /^[a-f0-9]{64}$/);
      assert.ok((v.status?.size ?? 0) > 0);
      const stored = await readFile(await env.blobOf(v.status!.storageKey!));
      assert.is(createHash('sha256').update(stored).digest('hex'), v.status?.checksum, 'the stored bytes hash to the recorded checksum');
    }
  }
  const table = await env.kubectl(['get', 'modules', '-n', env.namespace]);
  assert.match(table.stdout, /NAME\s+READY\s+LATEST\s+SYNCED\s+INTEGRITY\s+AGE/);
  assert.match(table.stdout, /network\s+True\s+1\.3\.0\s+4\/4\s+Verified/);
});

test('tofu init and terraform 1.5.7 init install 1.2.5 for "~> 1.2.0" from the git- and the GitHub-sourced module', async () => {
  for (const tool of ['tofu', 'terraform'] as const) {
    const run = await env.client(tool, twoModules().replaceAll('NS', env.namespace));
    assert.is(run.code, 0, run.output);
    const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
    for (const key of ['network', 'cluster']) {
      const entry = manifest.Modules.find((m) => m.Key === key);
      assert.is(entry?.Version, '1.2.5', `${tool} ${key}`);
      assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
    }
  }
});

test('a stored archive overwritten on disk is restored from the source: Event, condition, and init gets the original bytes', async () => {
  const [v] = (await versionsOf('cluster')).filter((x) => x.spec.version === '1.2.5');
  const blob = await env.blobOf(v!.status!.storageKey!);
  const original = await readFile(blob);
  await writeFile(blob, Buffer.concat([original.subarray(0, original.length - 10), Buffer.from('tampered!!')]));
  const restored = await eventually(
    'the archive restored',
    async () => {
      const bytes = await readFile(await env.blobOf(v!.status!.storageKey!));
      return createHash('sha256').update(bytes).digest('hex') === v!.status!.checksum ? bytes : undefined;
    },
    30_000,
  );
  assert.ok(restored.equals(original));
  const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${v!.metadata.name}`, '-o', 'json']);
  const reasons = (JSON.parse(events.stdout) as { items: { reason: string; message: string }[] }).items.map((e) => e.reason);
  assert.ok(reasons.includes('TamperDetected') && reasons.includes('Restored'), reasons.join(', '));
  const after = await env.get<Obj>('version', v!.metadata.name);
  assert.ok(ready(after));
  assert.is(after.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Restored');
  const run = await env.client('tofu', twoModules('1.2.5').replaceAll('NS', env.namespace));
  assert.is(run.code, 0, run.output);
});

test('when the source no longer matches either, the Version stalls with ChecksumMismatch and is not served', async () => {
  // Move the git tag of 1.2.5 to other content, then tamper with the stored archive.
  const repoDir = join(env.dir, 'network-repo');
  await createGitRepo(repoDir, { tags: { '1.2.5-moved': { 'main.tf': 'output "version" { value = "evil" }\n' } } });
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  await promisify(execFile)('git', ['-C', repoDir, 'tag', '-f', '1.2.5', '1.2.5-moved']);
  const [v] = (await versionsOf('network')).filter((x) => x.spec.version === '1.2.5');
  const blob = await env.blobOf(v!.status!.storageKey!);
  await writeFile(blob, 'not a zip at all');
  const stalled = await eventually(
    'Version Stalled',
    async () => {
      const o = await env.get<Obj>('version', v!.metadata.name);
      return o.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    },
    30_000,
  );
  assert.is(stalled.reason, 'ChecksumMismatch');
  assert.match(stalled.message, /source no longer matches the recorded sha256/);
  const run = await env.client('tofu', `module "network" {\n  source  = "${HOST}/${env.namespace}/network/aws"\n  version = "1.2.5"\n}\n`);
  assert.is.not(run.code, 0, run.output);
  // Only Ready Versions are listed, so the client never downloads the unverified archive.
  assert.match(run.output, /There is no available version of module[\s\S]*The newest available version is 1\.3\.0/, run.output);
  const module = await eventually(
    'Module reports the stall',
    async () => {
      const m = await env.get<Obj>('module', 'network');
      return m.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? m : undefined;
    },
    20_000,
  );
  assert.match(module.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /1\.2\.5/);
});

test.run();
