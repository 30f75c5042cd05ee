/**
 * Provider scanning with the real trivy, all real: the operator loads @opendepot/plugin-trivy with
 * the test bed's fixture vulnerability database (real Go advisories, offline) and scans each
 * platform's package of providers built as real Go binaries, served signed by the HashiCorp
 * Releases stand-in. A provider linking golang.org/x/text v0.3.7 reports CVE-2022-32149 HIGH on
 * every platform and once on the Provider; blocking HIGH keeps it out of `tofu init` while the
 * version linking the fixed v0.3.8 installs; an exemption lets it through until it expires. The
 * source named by the release metadata is fetched from the GitHub stand-in and scanned too: its
 * go.mod has the same advisory, merged with the binaries' finding; a release naming no source is
 * NotFound and otherwise unaffected. Without a database nothing is called clean.
 */
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSigningKey,
  ensureTool,
  FIXED_X_TEXT,
  FIXTURE_DB_UPDATED_AT,
  fixtureTrivyDb,
  startGithubStandin,
  startHashicorpReleasesStandin,
  VULNERABLE_PROVIDER_SOURCE,
  type GithubStandin,
  trustCaInProcess,
  vulnerableProviderExecutables,
  type HashicorpReleasesStandin,
  type SigningKey,
} from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { archiveStored, type ProviderVersion as VersionObj, providerScanOnce } from './support/provider-scans.ts';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];
const BOTH = ['darwin_arm64', 'linux_amd64'];
const TEXT_CVE = { id: 'CVE-2022-32149', severity: 'HIGH', pkg: 'golang.org/x/text', installedVersion: 'v0.3.7', fixedVersion: '0.3.8' };

let upstreamKey: SigningKey;
let registryKey: SigningKey;
let releases: HashicorpReleasesStandin;
let github: GithubStandin;
let trivy: string;
let env: RegistryEnv;
/** A copy of the fixture database's cache dir: trivy writes its scan cache beside the DB. */
let cacheDir: string;

const provider = (name: string, versions: string[], scanning?: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Provider',
  metadata: { name },
  spec: { providerConfig: { name, operatingSystems: ['linux', 'darwin'], architectures: ['amd64', 'arm64'] }, versions: versions.map((version) => ({ version })), ...(scanning && { scanning }) },
});
const platformOf = (v: VersionObj) => `${v.spec.operatingSystem}_${v.spec.architecture}`;
/** The Versions of the platforms the stand-in publishes (linux_arm64 and darwin_amd64 are not). */
const versionsOf = async (on: RegistryEnv, name: string, version: string) => {
  const r = await on.kubectl(['get', 'versions', '-n', on.namespace, '-l', `opendepot.defdev.io/owner-name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: VersionObj[] }).items.filter((v) => v.spec.version === version && BOTH.includes(platformOf(v)));
};
const condition = (v: VersionObj, type: string) => v.status?.conditions?.find((c) => c.type === type);
const ready = (v: VersionObj) => condition(v, 'Ready')?.status === 'True';
const stalledBy = (v: VersionObj, reason: string) => condition(v, 'Stalled')?.status === 'True' && condition(v, 'Stalled')?.reason === reason;
/** Both platforms of `version` of `name` once `check` holds for each. */
const bothPlatforms = (on: RegistryEnv, name: string, version: string, what: string, check: (v: VersionObj) => boolean) =>
  eventually(
    `${name} ${version} on both platforms ${what}`,
    async () => {
      const vs = await versionsOf(on, name, version);
      return vs.length === 2 && vs.every(check) ? vs : undefined;
    },
    120_000,
  );
const required = (name: string, version: string) =>
  `terraform {\n  required_providers {\n    ${name} = {\n      source  = "${HOST}/${env.namespace}/${name}"\n      version = "${version}"\n    }\n  }\n}\n`;
const operatorConfig = (pluginConfig: Record<string, unknown>) => ({
  plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-trivy', config: { binary: trivy, ...pluginConfig } }],
  operator: {
    // HIGH does not block by default (CRITICAL does); a Provider blocks HIGH in its spec.scanning.
    scanning: { blockSeverities: ['CRITICAL'] },
    providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [upstreamKey.publicKeyArmored], allowInsecureHttp: true },
    // Sources named https://github.com/... are fetched from the stand-in.
    github: { apiUrl: github.url },
  },
});
const startEnv = (pluginConfig: Record<string, unknown>) =>
  startRegistryEnv({
    config: operatorConfig(pluginConfig),
    files: { 'registry-key.asc': registryKey.privateKeyArmored },
    serverConfig: (dir) => ({ gpg: { privateKeyFile: join(dir, 'registry-key.asc') } }),
  });

test.before(async () => {
  trivy = await ensureTool('trivy');
  upstreamKey = await createSigningKey({ name: 'Upstream publisher' });
  registryKey = await createSigningKey({ name: 'OpenDepot registry' });
  releases = await startHashicorpReleasesStandin({ signingKey: upstreamKey });
  const vulnerable = await vulnerableProviderExecutables('1.0.0', PLATFORMS);
  const fixed = await vulnerableProviderExecutables('1.0.1', PLATFORMS, FIXED_X_TEXT);
  const release = (executables: Map<string, string>) => ({ platforms: PLATFORMS.map((p) => ({ ...p, executable: executables.get(`${p.os}_${p.arch}`)! })), protocols: ['5.0'] });
  for (const name of ['reported', 'blocked', 'nodb', 'exempt']) await releases.addRelease(`terraform-provider-${name}`, '1.0.0', release(vulnerable));
  await releases.addRelease('terraform-provider-blocked', '1.0.1', release(fixed));
  // Its release metadata names no source repository (url_source_repository left out).
  await releases.addRelease('terraform-provider-nosource', '1.0.0', { ...release(vulnerable), sourceRepository: null });
  // The source the release metadata names (https://github.com/hashicorp/terraform-provider-reported), tagged v1.0.0.
  github = await startGithubStandin();
  const sourceFiles = Object.fromEntries(await Promise.all((await readdir(VULNERABLE_PROVIDER_SOURCE)).map(async (f) => [f, await readFile(join(VULNERABLE_PROVIDER_SOURCE, f))] as const)));
  github.addRepo('hashicorp', 'terraform-provider-reported', { tags: { 'v1.0.0': sourceFiles } });
  cacheDir = await mkdtemp(join(tmpdir(), 'opendepot-e2e-trivy-cache-'));
  await cp(await fixtureTrivyDb(), cacheDir, { recursive: true });
  env = await startEnv({ cacheDir });
  // The server's listing is read over its TLS, signed by the environment's CA.
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  await env.apply(provider('reported', ['1.0.0']), provider('blocked', ['1.0.0', '1.0.1'], { blockSeverities: ['HIGH'] }));
});

test.after(async () => {
  await env?.stop();
  await releases?.close();
  await github?.close();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

test('the vulnerable provider: each platform reports CVE-2022-32149 HIGH and is Ready; the Provider lists it once with both platforms', async () => {
  const versions = await bothPlatforms(env, 'reported', '1.0.0', 'Ready', ready);
  for (const v of versions) {
    const scan = v.status!.scan!;
    assert.match(scan.scanner, /^trivy 0\.\d+\.\d+$/);
    assert.equal({ critical: scan.critical, high: scan.high, blocked: scan.blocked }, { critical: 0, high: 1, blocked: false });
    assert.equal(scan.findings, [TEXT_CVE], platformOf(v));
    const report = JSON.parse(await readFile(await env.blobOf(scan.reportKey), 'utf8')) as { findings: { id: string }[] };
    assert.equal(
      report.findings.map((f) => f.id),
      [TEXT_CVE.id],
    );
  }
  const aggregate = await providerScanOnce(env, 'reported', 'the Provider aggregate over both platforms and the source', (scan) => scan.scannedVersions === 2 && scan.sources?.length === 1);
  assert.equal(aggregate.sources, [{ version: '1.0.0', state: 'Scanned', repository: 'https://github.com/hashicorp/terraform-provider-reported' }]);
  // The binaries' finding and go.mod's are one finding, found in both.
  assert.equal(aggregate.findings, [{ ...TEXT_CVE, versions: ['1.0.0'], platforms: BOTH, from: 'both' }]);
  assert.equal({ high: aggregate.high, critical: aggregate.critical, blocked: aggregate.blocked }, { high: 1, critical: 0, blocked: [] });
  // The source scan is done once, by the first platform's Version, and the database's age is in status and a metric.
  const scanned = await versionsOf(env, 'reported', '1.0.0');
  const carrier = scanned.find((v) => platformOf(v) === 'linux_amd64')!;
  assert.equal(carrier.status!.sourceScan?.findings, [TEXT_CVE]);
  assert.is(scanned.find((v) => platformOf(v) === 'darwin_arm64')!.status!.sourceScan, undefined);
  for (const v of versions) assert.is(v.status!.scan!.database?.updatedAt, FIXTURE_DB_UPDATED_AT, platformOf(v));
  const metrics = await (await fetch(`${env.operator.health.url}/metrics`)).text();
  const age = /^opendepot_operator_scanner_database_age_seconds\{scanner="trivy [^"]+"\} (\d+(?:\.\d+)?)$/m.exec(metrics);
  assert.ok(age, 'the database age metric is exported');
  assert.ok(Math.abs(Number(age[1]) - (Date.now() - Date.parse(FIXTURE_DB_UPDATED_AT)) / 1000) < 600, `age ${age[1]} s is the fixture database's`);
});

test('a release that names no source repository: the source scan is NotFound with the fix, and the binaries are scanned and served as usual', async () => {
  await env.apply(provider('nosource', ['1.0.0']));
  await bothPlatforms(env, 'nosource', '1.0.0', 'Ready', ready);
  const aggregate = await providerScanOnce(env, 'nosource', 'the source scan state', (scan) => scan.sources?.length === 1);
  assert.is(aggregate.sources![0]!.state, 'NotFound');
  assert.match(aggregate.sources![0]!.message!, /names no source repository.*spec\.providerConfig\.sourceRepository/);
  assert.equal(aggregate.findings, [{ ...TEXT_CVE, versions: ['1.0.0'], platforms: BOTH, from: 'binary' }]);
});

test('an exemption (spec.scanning.ignore) with a future expires lets the HIGH finding through and shows in status; once it expires the next reconcile blocks and removes the archive', async () => {
  const expires = new Date(Date.now() + 40_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const ignore = [{ id: TEXT_CVE.id, expires, reason: 'not reachable from the provider code' }];
  await env.apply(provider('exempt', ['1.0.0'], { blockSeverities: ['HIGH'], ignore }));
  const letThrough = await bothPlatforms(env, 'exempt', '1.0.0', 'Ready under the exemption', ready);
  for (const v of letThrough) {
    assert.equal(v.status!.scan!.ignored, ignore);
    assert.is(v.status!.scan!.blocked, false);
  }
  const blocked = await bothPlatforms(env, 'exempt', '1.0.0', 'blocked after the exemption expired', (v) => stalledBy(v, 'ScanBlocked'));
  assert.ok(Date.now() >= Date.parse(expires), 'not blocked before the exemption expired');
  for (const v of blocked) {
    assert.is(v.status?.checksum, undefined, 'the stored archive is forgotten');
    assert.is(await archiveStored(env, v.status!.scan!.reportKey), false, `the ${platformOf(v)} archive is gone from storage`);
  }
});

test('spec.scanning.blockSeverities [HIGH]: the vulnerable version is stored on no platform and tofu init finds no matching version; the fixed one is Ready and installs', async () => {
  const blocked = await bothPlatforms(env, 'blocked', '1.0.0', 'Stalled (ScanBlocked)', (v) => stalledBy(v, 'ScanBlocked'));
  for (const v of blocked) {
    assert.match(condition(v, 'Stalled')!.message, /CVE-2022-32149 HIGH/);
    assert.is(v.status?.checksum, undefined, 'nothing recorded as stored');
    const stored = await archiveStored(env, v.status!.scan!.reportKey);
    assert.is(stored, false, `the blocked ${platformOf(v)} archive is not in storage`);
  }
  const aggregate = await providerScanOnce(env, 'blocked', 'the Provider lists the blocked platforms', (scan) => scan.blocked?.length === 2);
  assert.equal(
    aggregate.blocked,
    BOTH.map((p) => `1.0.0/${p}`),
  );
  const fixed = await bothPlatforms(env, 'blocked', '1.0.1', 'Ready', ready);
  for (const v of fixed) assert.equal({ high: v.status!.scan!.high, blocked: v.status!.scan!.blocked, findings: v.status!.scan!.findings ?? [] }, { high: 0, blocked: false, findings: [] });

  const refused = await env.client('tofu', required('blocked', '1.0.0'));
  assert.is.not(refused.code, 0, refused.output);
  // tofu wraps its message at 80 columns.
  assert.match(refused.output, /no\s+available\s+releases\s+match\s+the\s+given\s+constraints\s+1\.0\.0/);
  const installed = await env.client('tofu', required('blocked', '1.0.1'));
  assert.is(installed.code, 0, installed.output);
  assert.match(installed.output, /Installed .*blocked v1\.0\.1/);
});

test('without a vulnerability database: Ready False (ScannerDatabaseMissing) naming cacheDir and dbRepository; nothing stored or called clean', async () => {
  const emptyCache = await mkdtemp(join(tmpdir(), 'opendepot-e2e-trivy-empty-'));
  const noDb = await startEnv({ cacheDir: emptyCache });
  try {
    await noDb.apply(provider('nodb', ['1.0.0']));
    const versions = await bothPlatforms(
      noDb,
      'nodb',
      '1.0.0',
      'ScannerDatabaseMissing',
      (v) => condition(v, 'Ready')?.status === 'False' && condition(v, 'Ready')?.reason === 'ScannerDatabaseMissing',
    );
    for (const v of versions) {
      const message = condition(v, 'Ready')!.message;
      assert.match(message, /cacheDir/);
      assert.match(message, /dbRepository/);
      assert.is(v.status?.checksum, undefined, 'nothing recorded as stored');
      assert.is(v.status?.scan, undefined, 'no scan summary: nothing is claimed clean');
    }
  } finally {
    await noDb.stop();
    await rm(emptyCache, { recursive: true, force: true });
  }
});

test.run();
