/**
 * Providers end to end, all real: a Provider applied to kube-apiserver, the operator verifying
 * the publisher's signature (a HashiCorp Releases stand-in signed by its own key) and storing
 * each platform with its h1:/zh: hashes, the server signing SHA256SUMS with the registry's key,
 * and the real `tofu` and Terraform 1.5.7 installing through providers.v1 and the network mirror.
 * The recorded hashes equal tofu's own (`providers lock` with every platform), and served as
 * OpenTofu's `packages` they let `tofu init` of a registry.opentofu.org provider lock them all.
 * Upstreams with a bad signature, a swapped zip, or no answer leave a condition and store nothing.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliConfigText, createSigningKey, startHashicorpReleasesStandin, type HashicorpReleasesStandin, type SigningKey } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Condition } from './support/resources.ts';

interface Obj {
  metadata: { name: string };
  spec: { version?: string; operatingSystem?: string; architecture?: string };
  status?: {
    conditions?: Condition[];
    checksum?: string;
    h1?: string;
    zh?: string;
    protocols?: string[];
    progress?: string;
    latestVersion?: string;
    platforms?: { platform: string; ready: boolean }[];
  };
}

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
];
let env: RegistryEnv;
let releases: HashicorpReleasesStandin;
let registryKey: SigningKey;

const provider = (name: string, versions: string[]) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Provider',
  metadata: { name },
  spec: {
    providerConfig: { name, operatingSystems: ['linux', 'darwin'], architectures: ['amd64', 'arm64'] },
    versions: versions.map((version) => ({ version })),
  },
});
const versionsOf = async (name: string) => {
  const r = await env.kubectl(['get', 'versions', '-n', env.namespace, '-l', `opendepot.defdev.io/owner-name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};
const ready = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
/** Every file stored under the provider's storage directory (nothing of a failed Provider may be there). */
const storedFiles = async (name: string) =>
  (await readdir(join(env.storagePath, 'providers', env.namespace, name), { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.blob'));

test.before(async () => {
  const upstreamKey = await createSigningKey({ name: 'Upstream publisher' });
  registryKey = await createSigningKey({ name: 'OpenDepot registry' });
  releases = await startHashicorpReleasesStandin({ signingKey: upstreamKey });
  // darwin_amd64 is never published: the Provider asks for it, so that platform stays unready.
  for (const v of ['1.0.0', '1.1.0', '1.1.3']) await releases.addRelease('terraform-provider-hello', v, { platforms: PLATFORMS, protocols: ['5.0'] });
  for (const v of ['2.0.0']) {
    await releases.addRelease('terraform-provider-badsig', v, { platforms: PLATFORMS });
    await releases.addRelease('terraform-provider-swapped', v, { platforms: PLATFORMS });
    await releases.addRelease('terraform-provider-offline', v, { platforms: PLATFORMS });
  }
  await releases.corruptSignature('terraform-provider-badsig', '2.0.0');
  await releases.corruptZip('terraform-provider-swapped', '2.0.0', 'linux', 'amd64');
  env = await startRegistryEnv({
    config: {
      operator: { providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [upstreamKey.publicKeyArmored], allowInsecureHttp: true } },
    },
    files: { 'registry-key.asc': registryKey.privateKeyArmored },
    serverConfig: (dir) => ({ gpg: { privateKeyFile: join(dir, 'registry-key.asc') } }),
  });
  await env.apply(provider('hello', ['1.0.0', '1.1.0', '1.1.3']), provider('badsig', ['2.0.0']), provider('swapped', ['2.0.0']));
});

test.after(async () => {
  await env?.stop();
  await releases?.close();
});

test('every published platform of every version is verified, stored and Ready, with checksum, h1: and zh:', async () => {
  const versions = await eventually(
    '9 hello Versions Ready',
    async () => {
      const vs = await versionsOf('hello');
      return vs.filter(ready).length === 9 ? vs : undefined;
    },
    120_000,
  );
  assert.is(versions.length, 12, 'one Version per version × OS × architecture');
  for (const v of versions.filter(ready)) {
    assert.match(v.status?.h1 ?? '', /^h1:[A-Za-z0-9+/]{43}=$/);
    assert.is(v.status?.zh, `zh:${v.status?.checksum}`);
    assert.equal(v.status?.protocols, ['5.0']);
  }
  const darwinAmd = versions.filter((v) => v.spec.operatingSystem === 'darwin' && v.spec.architecture === 'amd64');
  assert.ok(
    darwinAmd.every((v) => !ready(v)),
    'an unpublished platform is not Ready',
  );
  const p = await env.get<Obj>('provider', 'hello');
  assert.is(p.status?.progress, '9/12');
  assert.equal(p.status?.platforms?.find((x) => x.platform === 'darwin_amd64')?.ready, false);
  assert.equal(p.status?.platforms?.find((x) => x.platform === 'linux_amd64')?.ready, true);
});

const required = (version: string) => `terraform {\n  required_providers {\n    hello = {\n      source  = "${HOST}/${env.namespace}/hello"\n      version = "${version}"\n    }\n  }\n}\n`;

test('tofu and terraform 1.5.7 install "~> 1.1" (1.1.3) verifying OpenDepot\'s signature; the lock file records the hashes', async () => {
  for (const tool of ['tofu', 'terraform'] as const) {
    const run = await env.client(tool, required('~> 1.1'));
    assert.is(run.code, 0, run.output);
    assert.match(run.output, /Installing .*hello v1\.1\.3/);
    // The client verified SHA256SUMS.sig against the key OpenDepot served, and names it.
    assert.match(run.output, new RegExp(`Installed .*hello v1\\.1\\.3 \\(.*key ID ${registryKey.keyId}\\)`), run.output);
    const lock = await readFile(join(run.workdir, '.terraform.lock.hcl'), 'utf8');
    assert.match(lock, /version\s+=\s+"1\.1\.3"/);
    assert.match(lock, /"h1:[A-Za-z0-9+/]{43}="/);
    assert.match(lock, /"zh:[a-f0-9]{64}"/);
  }
});

test("the hashes the operator recorded, served as OpenTofu's packages, let tofu init of a registry.opentofu.org provider lock every Ready platform as `providers lock` with every -platform does", async () => {
  const hashesIn = (lock: string) => [...lock.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]!).sort();
  const readyPlatforms = ['darwin_arm64', 'linux_amd64', 'linux_arm64'];
  const lock = await env.client('tofu', required('1.1.3'), ['providers', 'lock', '-no-color', ...readyPlatforms.map((p) => `-platform=${p}`)]);
  assert.is(lock.code, 0, lock.output);
  const everyPlatform = hashesIn(await readFile(join(lock.workdir, '.terraform.lock.hcl'), 'utf8'));
  // tofu's own hashes of each downloaded package are the ones the operator recorded.
  const stored = (await versionsOf('hello')).filter((v) => v.spec.version === '1.1.3' && ready(v));
  assert.equal(stored.map((v) => `${v.spec.operatingSystem}_${v.spec.architecture}`).sort(), readyPlatforms);
  assert.equal(everyPlatform, stored.flatMap((v) => [v.status!.h1!, v.status!.zh!]).sort());

  // OpenDepot answering for registry.opentofu.org (host block): init downloads linux_amd64 only.
  const cliConfig = join(env.dir, 'default-host.tfrc');
  await writeFile(cliConfig, cliConfigText('registry.opentofu.org', { 'providers.v1': `${env.server.listening.url}/opendepot/providers/v1/` }));
  const mainTf = `terraform {\n  required_providers {\n    hello = {\n      source  = "registry.opentofu.org/${env.namespace}/hello"\n      version = "1.1.3"\n    }\n  }\n}\n`;
  const init = await env.client('tofu', mainTf, undefined, { TF_CLI_CONFIG_FILE: cliConfig });
  assert.is(init.code, 0, init.output);
  assert.equal(hashesIn(await readFile(join(init.workdir, '.terraform.lock.hcl'), 'utf8')), everyPlatform);
});

test('a bad upstream signature and a swapped zip each stall with VerificationFailed and store nothing', async () => {
  for (const name of ['badsig', 'swapped']) {
    const stalled = await eventually(
      `${name} stalled`,
      async () => {
        const vs = await versionsOf(name);
        const v = vs.find((x) => x.spec.operatingSystem === 'linux' && x.spec.architecture === 'amd64');
        return v?.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
      },
      60_000,
    );
    assert.is(stalled.reason, 'VerificationFailed', JSON.stringify(stalled));
    assert.match(stalled.message, name === 'badsig' ? /signature/i : /sha256|checksum/i);
  }
  assert.equal(await storedFiles('badsig'), [], 'nothing of a Provider with a bad signature is stored');
  const swapped = (await versionsOf('swapped')).find((x) => x.spec.operatingSystem === 'linux' && x.spec.architecture === 'amd64')!;
  assert.is(swapped.status?.checksum, undefined);
});

test('a refused provider version is listed nowhere; the download route, the Provider status and kubectl say why', async () => {
  const { trustCaInProcess } = await import('@opendepot/testbed');
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  // The Provider rolls its Versions' integrity problems up: condition, status.integrity and the Integrity column.
  const swapped = await eventually(
    'swapped reports the refused platform',
    async () => {
      const p = await env.get<Obj & { status?: { integrity?: string; integrityProblems?: { version: string; reason: string; served: boolean }[] } }>('provider', 'swapped');
      return p.status?.integrity?.startsWith('VerificationFailed') ? p : undefined;
    },
    60_000,
  );
  assert.is(swapped.status?.integrity, 'VerificationFailed: 2.0.0/linux_amd64');
  assert.equal(
    swapped.status?.integrityProblems?.map((p) => [p.version, p.reason, p.served]),
    [['2.0.0/linux_amd64', 'VerificationFailed', false]],
  );
  const badsig = await env.get<Obj & { status?: { integrity?: string } }>('provider', 'badsig');
  assert.match(badsig.status?.integrity ?? '', /^VerificationFailed: 2\.0\.0\/darwin_arm64, 2\.0\.0\/linux_amd64, 2\.0\.0\/linux_arm64/);
  const table = await env.kubectl(['get', 'providers', 'swapped', '-n', env.namespace]);
  assert.match(table.stdout, /NAME\s+READY\s+LATEST\s+SYNCED\s+INTEGRITY\s+AGE/);
  assert.match(table.stdout, /swapped\s+\S+\s+.*VerificationFailed: 2\.0\.0\/linux_amd64/);
  // The README's troubleshooting command: the refused Versions and why.
  const why = await env.kubectl([
    'get',
    'versions',
    '-n',
    env.namespace,
    '-l',
    'opendepot.defdev.io/owner-name=swapped',
    '-o',
    'custom-columns=NAME:.metadata.name,REASON:.status.conditions[?(@.type=="Stalled")].reason,MESSAGE:.status.conditions[?(@.type=="Stalled")].message',
  ]);
  assert.match(why.stdout, /swapped-2\.0\.0-linux-amd64\s+VerificationFailed\s+\S.*(sha256|checksum)/i);

  // Listed nowhere: not in providers.v1 versions, not in the mirror.
  const base = `${env.server.listening.url}/opendepot/providers/v1/${env.namespace}`;
  const listing = (await (await fetch(`${base}/swapped/versions`)).json()) as { versions: { version: string; platforms: { os: string; arch: string }[] }[] };
  const platforms = listing.versions
    .find((v) => v.version === '2.0.0')
    ?.platforms.map((p) => `${p.os}_${p.arch}`)
    .sort();
  assert.equal(platforms, ['darwin_arm64', 'linux_arm64'], 'the refused platform is not listed');
  const badsigListing = await fetch(`${base}/badsig/versions`);
  const badsigVersions = badsigListing.status === 200 ? ((await badsigListing.json()) as { versions: { version: string }[] }).versions : [];
  assert.equal(badsigVersions, [], 'no platform of badsig is listed');
  const mirror = `${env.server.listening.url}/opendepot/mirror/v1/registry.opentofu.org/hashicorp`;
  const archives = (await (await fetch(`${mirror}/swapped/2.0.0.json`)).json()) as { archives: Record<string, unknown> };
  assert.equal(Object.keys(archives.archives).sort(), ['darwin_arm64', 'linux_arm64']);
  assert.is((await fetch(`${mirror}/badsig/index.json`)).status, 404);

  // The download route says what happened, with the reason code (the details stay in the cluster).
  const download = await fetch(`${base}/swapped/2.0.0/download/linux/amd64`);
  assert.is(download.status, 409);
  const message = ((await download.json()) as { errors: string[] }).errors[0]!;
  assert.match(message, 'was refused because the upstream archive failed its checksum or signature check, so it is neither listed nor served (reason: VerificationFailed)');
});

test('an upstream that is down leaves a retrying condition and stores nothing', async () => {
  await releases.down();
  try {
    await env.apply(provider('offline', ['2.0.0']));
    const c = await eventually(
      'offline unavailable',
      async () => {
        const v = (await versionsOf('offline'))[0];
        const r = v?.status?.conditions?.find((x) => x.type === 'Ready');
        return r?.reason === 'SourceUnavailable' ? r : undefined;
      },
      60_000,
    );
    assert.is(c.status, 'False');
    assert.equal(await storedFiles('offline'), []);
  } finally {
    await releases.up();
  }
});

test('with only a network_mirror block, tofu installs registry.opentofu.org/hashicorp/hello from OpenDepot and locks h1: for two platforms', async () => {
  const mirror = `${env.server.listening.url}/opendepot/mirror/v1/`;
  const cliConfig = join(env.dir, 'mirror.tfrc');
  await writeFile(cliConfig, `provider_installation {\n  network_mirror {\n    url = "${mirror}"\n  }\n}\n`);
  const mainTf = `terraform {\n  required_providers {\n    hello = {\n      source  = "registry.opentofu.org/hashicorp/hello"\n      version = "~> 1.0.0"\n    }\n  }\n}\n`;
  const init = await env.client('tofu', mainTf, undefined, { TF_CLI_CONFIG_FILE: cliConfig });
  assert.is(init.code, 0, init.output);
  assert.match(init.output, /Installed hashicorp\/hello v1\.0\.0/);
  // `providers lock` ignores provider_installation and asks the origin registry unless told to use the mirror.
  const lock = await env.client('tofu', mainTf, ['providers', 'lock', '-no-color', `-net-mirror=${mirror}`, '-platform=linux_amd64', '-platform=darwin_arm64'], { TF_CLI_CONFIG_FILE: cliConfig });
  assert.is(lock.code, 0, lock.output);
  const text = await readFile(join(lock.workdir, '.terraform.lock.hcl'), 'utf8');
  const h1 = text.match(/"h1:[A-Za-z0-9+/]{43}="/g) ?? [];
  assert.ok(new Set(h1).size >= 2, `h1: hashes for both platforms:\n${text}`);
  const stored = (await versionsOf('hello')).filter((v) => v.spec.version === '1.0.0' && ['linux_amd64', 'darwin_arm64'].includes(`${v.spec.operatingSystem}_${v.spec.architecture}`));
  for (const v of stored) assert.match(text, v.status!.h1!);
});

test.run();
