/**
 * The hostile upstreams of issue 10 §2, shared by the tests that throw them at the operator:
 * a signed zip bomb (`terraform-provider-bomb`), a provider whose four platform zips drip
 * (`terraform-provider-drip`, behind {@link startDripProxy}), and a module repository with
 * 19,990 symlinks and four tags.
 */
import { join } from 'node:path';
import { createGitRepo, createSigningKey, makeOverlapZipBomb, startHashicorpReleasesStandin, type GitRepo, type HashicorpReleasesStandin } from '@opendepot/testbed';
import { startDripProxy, type DripProxy } from './drip-proxy.ts';

/** The releases stand-in behind the drip proxy, and the `operator.providers` that points at it. */
export interface HostileReleases {
  releases: HashicorpReleasesStandin;
  proxy: DripProxy;
  /** `operator.providers`: the proxy as the Releases API, its signing key trusted, http allowed. */
  providers: { hashicorpReleasesUrl: string; hashicorpTrustedKeys: string[]; allowInsecureHttp: true };
  /** Size of the zip bomb in bytes. */
  bombBytes: number;
  close(): Promise<void>;
}

/** The releases stand-in with the zip bomb (linux/amd64) and the dripping provider (four platforms), behind a drip proxy. */
export async function startHostileReleases(): Promise<HostileReleases> {
  const key = await createSigningKey({ name: 'Hostile stand-in' });
  const releases = await startHashicorpReleasesStandin({ signingKey: key });
  const bomb = await makeOverlapZipBomb();
  await releases.addRelease('terraform-provider-bomb', '1.0.0', { platforms: [{ os: 'linux', arch: 'amd64', bytes: bomb }] });
  await releases.addRelease('terraform-provider-drip', '1.0.0', { platforms: DRIP_PLATFORMS.operatingSystems.flatMap((os) => DRIP_PLATFORMS.architectures.map((arch) => ({ os, arch }))) });
  const proxy = await startDripProxy(releases.url);
  return {
    releases,
    proxy,
    providers: { hashicorpReleasesUrl: proxy.url, hashicorpTrustedKeys: [key.publicKeyArmored], allowInsecureHttp: true },
    bombBytes: bomb.length,
    async close() {
      proxy.close();
      await releases.close();
    },
  };
}

/** The dripping provider's platforms (four Versions). */
export const DRIP_PLATFORMS = { operatingSystems: ['linux', 'darwin'], architectures: ['amd64', 'arm64'] };

/** The Provider objects of the bomb and the drip (apply them in the attacked namespace). */
export function hostileProviders(): object[] {
  return [
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Provider',
      metadata: { name: 'bomb' },
      spec: { providerConfig: { name: 'bomb', operatingSystems: ['linux'], architectures: ['amd64'] }, versions: [{ version: '1.0.0' }] },
    },
    {
      apiVersion: 'opendepot.defdev.io/v1alpha1',
      kind: 'Provider',
      metadata: { name: 'drip' },
      spec: { providerConfig: { name: 'drip', ...DRIP_PLATFORMS }, versions: [{ version: '1.0.0' }] },
    },
  ];
}

/** Symlinks in each tag of the links repository (the audit's repository). */
export const LINK_COUNT = 19_990;
/** The links repository's tags, as Version numbers. */
export const LINK_VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];

/** Creates, under `scratch`, the module repository with {@link LINK_COUNT} symlinks (half pointing out of the repository) in each of four tags. */
export async function createManyLinksRepo(scratch: string): Promise<GitRepo> {
  const files: Record<string, string | { symlink: string }> = { 'main.tf': 'output "x" { value = 1 }\n', 'docs/target.md': '# target\n' };
  for (let i = 0; i < LINK_COUNT; i++) files[`links/l${i}.md`] = { symlink: i % 2 === 0 ? '../docs/target.md' : '../../outside.md' };
  const tags: Record<string, typeof files> = {};
  for (const version of LINK_VERSIONS) tags[`v${version}`] = { ...files, 'version.txt': `v${version}\n` };
  return createGitRepo(join(scratch, 'links'), { tags });
}

/** The Module of the links repository. */
export function manyLinksModule(repoUrl: string): object {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'links' },
    spec: { moduleConfig: { name: 'links', provider: 'aws', repoUrl }, versions: LINK_VERSIONS.map((version) => ({ version })) },
  };
}

/** Creates, under `scratch`, a one-tag module repository, and returns its Module in `namespace`: the bystander that must sync while the hostile upstreams run. */
export async function calmModule(scratch: string, namespace: string): Promise<object> {
  const repo = await createGitRepo(join(scratch, 'calm'), { tags: { 'v1.0.0': { 'main.tf': 'output "ok" { value = true }\n' } } });
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'calm', namespace },
    spec: { moduleConfig: { name: 'calm', provider: 'aws', repoUrl: repo.url }, versions: [{ version: '1.0.0' }] },
  };
}
