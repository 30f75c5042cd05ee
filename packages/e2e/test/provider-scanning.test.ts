/**
 * Provider scanning end to end with the real kube-apiserver, operator and server: each platform's
 * verified package (from the HashiCorp Releases stand-in) is unpacked and given to a scanner
 * plugin loaded from configuration (a test plugin that answers with chosen findings; the
 * real-Trivy test scans real binaries). The Provider's status.scan lists a finding found on every
 * platform once; spec.scanning.blockSeverities keeps every platform out; an ignore entry lets
 * it through until it expires, and then the Version is blocked without anything else changing;
 * a scanner that fails marks nothing clean.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigningKey, startHashicorpReleasesStandin, trustCaInProcess, type HashicorpReleasesStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GivenFindings } from './support/given-findings-scanner.ts';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { archiveStored, type ProviderVersion as VersionObj, providerScanOnce } from './support/provider-scans.ts';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
];
const ALL = ['darwin_arm64', 'linux_amd64', 'linux_arm64'];
const TEXT_CVE = { id: 'CVE-2022-32149', severity: 'HIGH' as const, title: 'golang.org/x/text: denial of service', pkg: 'golang.org/x/text', installedVersion: 'v0.3.7', fixedVersion: '0.3.8' };

let env: RegistryEnv;
let releases: HashicorpReleasesStandin;
let findingsDir: string | undefined;

const provider = (name: string, scanning?: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Provider',
  metadata: { name },
  spec: { providerConfig: { name, operatingSystems: ['linux', 'darwin'], architectures: ['amd64', 'arm64'] }, versions: [{ version: '1.0.0' }], ...(scanning && { scanning }) },
});
const published = (v: VersionObj) => `${v.spec.operatingSystem}_${v.spec.architecture}` !== 'darwin_amd64';
const versionsOf = async (name: string) => {
  const r = await env.kubectl(['get', 'versions', '-n', env.namespace, '-l', `opendepot.defdev.io/owner-name=${name}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: VersionObj[] }).items.filter(published);
};
const condition = (v: VersionObj, type: string) => v.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const ready = (v: VersionObj) => condition(v, 'Ready') !== undefined;
const stalledBy = (v: VersionObj, reason: string) => condition(v, 'Stalled')?.reason === reason;
const exists = (path: string) =>
  readFile(path).then(
    () => true,
    () => false,
  );
const listedPlatforms = async (name: string) => {
  const r = await fetch(`${env.server.listening.url}/opendepot/providers/v1/${env.namespace}/${name}/versions`);
  if (r.status !== 200) return [];
  const body = (await r.json()) as { versions: { platforms: { os: string; arch: string }[] }[] };
  return body.versions.flatMap((v) => v.platforms.map((p) => `${p.os}_${p.arch}`)).sort();
};
const inOneYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

test.before(async () => {
  const upstreamKey = await createSigningKey({ name: 'Upstream publisher' });
  releases = await startHashicorpReleasesStandin({ signingKey: upstreamKey });
  for (const name of ['reported', 'blocked', 'exempt', 'expiring', 'broken']) await releases.addRelease(`terraform-provider-${name}`, '1.0.0', { platforms: PLATFORMS, protocols: ['5.0'] });
  await startEnv(upstreamKey.publicKeyArmored);
  // The server's listing is read over its TLS, signed by the environment's CA.
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
});

/** The operator with the test scanner (HIGH does not block by default: CRITICAL does). */
async function startEnv(trustedKey: string): Promise<void> {
  findingsDir = await mkdtemp(join(tmpdir(), 'opendepot-given-findings-'));
  const findingsFile = join(findingsDir, 'findings.json');
  const given: GivenFindings = { reported: [TEXT_CVE], blocked: [TEXT_CVE], exempt: [TEXT_CVE], expiring: [TEXT_CVE], broken: 'fail' };
  await writeFile(findingsFile, JSON.stringify(given));
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { path: './test/support/given-findings-scanner.ts', config: { file: findingsFile } }],
      operator: {
        scanning: { blockSeverities: ['CRITICAL'] },
        providers: { hashicorpReleasesUrl: releases.url, hashicorpTrustedKeys: [trustedKey], allowInsecureHttp: true },
      },
    },
  });
}

test.after(async () => {
  await env?.stop();
  await releases?.close();
  if (findingsDir) await rm(findingsDir, { recursive: true, force: true });
});

test('an ignore entry without expires or reason is refused by the API server, naming the field', async () => {
  const bad = provider('refused', { ignore: [{ id: 'CVE-2022-32149', reason: 'not reachable' }] });
  const r = await env.kubectl(['apply', '-n', env.namespace, '-f', '-'], JSON.stringify(bad));
  assert.is.not(r.code, 0, r.stdout);
  assert.match(r.stderr, /spec\.scanning\.ignore\[0\]\.expires: Required value/);
  const noReason = provider('refused', { ignore: [{ id: 'CVE-2022-32149', expires: inOneYear() }] });
  const r2 = await env.kubectl(['apply', '-n', env.namespace, '-f', '-'], JSON.stringify(noReason));
  assert.match(r2.stderr, /spec\.scanning\.ignore\[0\]\.reason: Required value/);
  const badDate = provider('refused', { ignore: [{ id: 'CVE-2022-32149', expires: 'next year', reason: 'x' }] });
  const r3 = await env.kubectl(['apply', '-n', env.namespace, '-f', '-'], JSON.stringify(badDate));
  assert.match(r3.stderr, /spec\.scanning\.ignore\[0\]\.expires/);
});

test('a finding on every platform: each Version reports it, is stored and Ready; the Provider lists it once with all platforms', async () => {
  await env.apply(provider('reported'));
  const versions = await eventually('every reported platform Ready', async () => {
    const vs = await versionsOf('reported');
    return vs.length === 3 && vs.every(ready) ? vs : undefined;
  });
  for (const v of versions) {
    assert.is(v.status!.scan!.scanner, 'given-findings 1.0.0');
    assert.is(v.status!.scan!.high, 1);
    assert.is(v.status!.scan!.blocked, false);
    assert.equal(v.status!.scan!.findings, [{ id: TEXT_CVE.id, severity: 'HIGH', pkg: TEXT_CVE.pkg, installedVersion: TEXT_CVE.installedVersion, fixedVersion: TEXT_CVE.fixedVersion }]);
    const report = JSON.parse(await readFile(await env.blobOf(v.status!.scan!.reportKey), 'utf8')) as { findings: { id: string }[] };
    assert.equal(
      report.findings.map((f) => f.id),
      [TEXT_CVE.id],
    );
  }
  const p = await providerScanOnce(env, 'reported', 'the Provider aggregate over three platforms', (scan) => scan.scannedVersions === 3);
  assert.equal(p.findings, [
    { id: TEXT_CVE.id, severity: 'HIGH', pkg: TEXT_CVE.pkg, installedVersion: TEXT_CVE.installedVersion, fixedVersion: TEXT_CVE.fixedVersion, versions: ['1.0.0'], platforms: ALL, from: 'binary' },
  ]);
  assert.equal({ high: p.high, critical: p.critical, blocked: p.blocked }, { high: 1, critical: 0, blocked: [] });
  assert.equal(await listedPlatforms('reported'), ALL);
  const wide = await env.kubectl(['get', 'providers', 'reported', '-n', env.namespace, '-o', 'wide']);
  assert.match(wide.stdout, /CRITICAL\s+HIGH/);
  assert.match(wide.stdout, /reported\s+.*\s0\s+1\s/);
});

test('spec.scanning.blockSeverities [HIGH]: no platform is stored or listed; each Version is Stalled (ScanBlocked) naming the finding', async () => {
  await env.apply(provider('blocked', { blockSeverities: ['HIGH'] }));
  const versions = await eventually('every blocked platform Stalled', async () => {
    const vs = await versionsOf('blocked');
    return vs.length === 3 && vs.every((v) => stalledBy(v, 'ScanBlocked')) ? vs : undefined;
  });
  for (const v of versions) {
    assert.match(condition(v, 'Stalled')!.message, /spec\.scanning\.blockSeverities/);
    assert.match(condition(v, 'Stalled')!.message, /CVE-2022-32149 HIGH/);
    assert.is(v.status?.checksum, undefined);
    const stored = await archiveStored(env, v.status!.scan!.reportKey);
    assert.is(stored, false, 'the blocked archive is not in storage');
  }
  assert.equal(await listedPlatforms('blocked'), []);
  const scan = await providerScanOnce(env, 'blocked', 'the Provider lists the blocked platforms', (scan) => scan.blocked?.length === 3);
  assert.equal(
    scan.blocked,
    ALL.map((p) => `1.0.0/${p}`),
  );
});

test('an ignore entry with a future expires lets the finding through; status shows the exemption', async () => {
  const exemption = { id: TEXT_CVE.id, expires: inOneYear(), reason: 'the provider never parses untrusted language tags' };
  await env.apply(provider('exempt', { blockSeverities: ['HIGH'], ignore: [exemption] }));
  const versions = await eventually('every exempt platform Ready', async () => {
    const vs = await versionsOf('exempt');
    return vs.length === 3 && vs.every(ready) ? vs : undefined;
  });
  for (const v of versions) {
    assert.equal(v.status!.scan!.ignored, [exemption]);
    assert.is(v.status!.scan!.blocked, false);
  }
  assert.equal(await listedPlatforms('exempt'), ALL);
});

test('an exemption that expires a few seconds ahead: served until then, then blocked and deleted without touching the resource', async () => {
  const expires = new Date(Date.now() + 30_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await env.apply(provider('expiring', { blockSeverities: ['HIGH'], ignore: [{ id: TEXT_CVE.id, expires, reason: 'a fix is being released' }] }));
  const served = await eventually('every expiring platform Ready before it expires', async () => {
    const vs = await versionsOf('expiring');
    return vs.length === 3 && vs.every(ready) ? vs : undefined;
  });
  assert.ok(Date.now() < Date.parse(expires), 'Ready before the exemption expired (give the test more time)');
  assert.equal(await listedPlatforms('expiring'), ALL);
  const blobs = await Promise.all(served.map((v) => env.blobOf(v.status!.storageKey!)));
  const blocked = await eventually(
    'every expiring platform blocked after expires',
    async () => {
      const vs = await versionsOf('expiring');
      return vs.every((v) => stalledBy(v, 'ScanBlocked')) ? vs : undefined;
    },
    90_000,
  );
  assert.ok(Date.now() >= Date.parse(expires));
  for (const v of blocked) assert.is(v.status?.checksum, undefined, 'nothing recorded as stored');
  for (const blob of blobs) assert.is(await exists(blob), false, 'the served archive was deleted');
  assert.equal(await listedPlatforms('expiring'), []);
});

test('a scanner that fails marks nothing clean: ScanFailed, not Ready, nothing stored, retried', async () => {
  await env.apply(provider('broken'));
  const versions = await eventually('every broken platform ScanFailed', async () => {
    const vs = await versionsOf('broken');
    return vs.length === 3 && vs.every((v) => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'ScanFailed')) ? vs : undefined;
  });
  for (const v of versions) {
    assert.is(v.status?.checksum, undefined);
    assert.is(v.status?.scan, undefined, 'no scan summary: nothing is claimed clean');
    assert.match(v.status!.conditions!.find((c) => c.type === 'Ready')!.message, /vulnerability database is missing/);
  }
  assert.equal(await listedPlatforms('broken'), []);
});

test.run();
