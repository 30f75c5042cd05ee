/**
 * A Provider's status.scan: its Versions' findings deduplicated by (id, package, installed
 * version), listing the versions and platforms and where they came from; counts over the
 * distinct findings.
 */
import type { Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aggregateProviderScan, binaryParts, providerScanStatus, sourceParts, type ScannedPart } from '../src/controllers/provider-scan.ts';
import { statusFindings } from '../src/controllers/scan-findings.ts';

const text = { id: 'CVE-2022-32149', severity: 'HIGH' as const, pkg: 'golang.org/x/text', installedVersion: 'v0.3.7', fixedVersion: '0.3.8' };
const crypto = { id: 'CVE-2023-0001', severity: 'CRITICAL' as const, pkg: 'golang.org/x/crypto', installedVersion: 'v0.1.0' };
const binary = (platform: string, findings: ScannedPart['findings'], version = '1.0.0'): ScannedPart => ({ version, platform, origin: 'binary', findings });

test('one finding on every platform is listed once with all platforms, and counted once', () => {
  const scan = aggregateProviderScan([binary('linux_amd64', [text]), binary('darwin_arm64', [text]), binary('windows_amd64', [text])]);
  assert.is(scan.findings!.length, 1);
  assert.equal(scan.findings![0], { ...text, versions: ['1.0.0'], platforms: ['darwin_arm64', 'linux_amd64', 'windows_amd64'], from: 'binary' });
  assert.is(scan.high, 1);
  assert.is(scan.critical, 0);
  assert.is(scan.scannedVersions, 3);
  assert.is(scan.truncated, false);
});

test('another installed version of the same package is another finding; most severe first', () => {
  const scan = aggregateProviderScan([binary('linux_amd64', [text, crypto]), binary('linux_arm64', [{ ...text, installedVersion: 'v0.3.6' }], '0.9.0')]);
  assert.equal(
    scan.findings!.map((f) => [f.id, f.installedVersion, f.versions, f.platforms]),
    [
      [crypto.id, 'v0.1.0', ['1.0.0'], ['linux_amd64']],
      [text.id, 'v0.3.6', ['0.9.0'], ['linux_arm64']],
      [text.id, 'v0.3.7', ['1.0.0'], ['linux_amd64']],
    ],
  );
  assert.is(scan.high, 2);
  assert.is(scan.critical, 1);
});

test('a finding in the binary and the source is from both; only in the source has no platform', () => {
  const source: ScannedPart = { version: '1.0.0', origin: 'source', findings: [text, { ...crypto, id: 'CVE-2023-0002' }] };
  const scan = aggregateProviderScan([binary('linux_amd64', [text]), source]);
  const byId = Object.fromEntries(scan.findings!.map((f) => [f.id, f]));
  assert.is(byId[text.id]!.from, 'both');
  assert.equal(byId[text.id]!.platforms, ['linux_amd64']);
  assert.is(byId['CVE-2023-0002']!.from, 'source');
  assert.is(byId['CVE-2023-0002']!.platforms, undefined);
  assert.is(scan.scannedVersions, 1, 'source scans are not Versions');
});

test('binaryParts takes the scanned Versions only, with their platform; blocked ones are listed', () => {
  const version = (os: string, scan?: object) => ({ spec: { version: '1.0.0', operatingSystem: os, architecture: 'amd64' }, ...(scan && { status: { scan } }) }) as unknown as Version;
  const parts = binaryParts([version('linux', { findings: [text], blocked: true }), version('darwin')]);
  assert.equal(parts, [{ version: '1.0.0', platform: 'linux_amd64', origin: 'binary', findings: [text] }]);
  assert.equal(aggregateProviderScan(parts, ['1.0.0/linux_amd64']).blocked, ['1.0.0/linux_amd64']);
});

test("sourceParts and status.scan.sources: only the carrier's scan of its own version counts; NotFound is listed without findings", () => {
  const version = (v: string, os: string, extra: object) => ({ spec: { version: v, operatingSystem: os, architecture: 'amd64' }, status: {}, ...extra }) as unknown as Version;
  const carrier = (v: string, sourceScan: object) => {
    const made = version(v, 'linux', { status: { sourceScan } });
    (made.spec as { sourceScan?: object }).sourceScan = {};
    return made;
  };
  const versions = [
    carrier('1.0.0', { state: 'Scanned', version: '1.0.0', repository: 'https://github.com/a/b', findings: [text] }),
    carrier('1.1.0', { state: 'NotFound', version: '1.1.0', message: 'the upstream names no source repository' }),
    // A result of another version (the spec moved on): not this version's source.
    carrier('1.2.0', { state: 'Scanned', version: '1.1.9', findings: [crypto] }),
    // Not the carrier (any more): its leftover result is not counted.
    version('1.0.0', 'darwin', { status: { sourceScan: { state: 'Scanned', version: '1.0.0', findings: [crypto] } } }),
  ];
  assert.equal(sourceParts(versions), [{ version: '1.0.0', origin: 'source', findings: [text] }]);
  const provider = { status: {} } as never;
  const { scan } = providerScanStatus(provider, versions);
  assert.equal(scan!.sources, [
    { version: '1.0.0', state: 'Scanned', repository: 'https://github.com/a/b' },
    { version: '1.1.0', state: 'NotFound', message: 'the upstream names no source repository' },
  ]);
  assert.equal(scan!.findings, [{ ...text, versions: ['1.0.0'], from: 'source' }]);
  assert.is(scan!.scannedVersions, 0);
});

test('statusFindings: one per (id, package, installed version), most severe first, without the title', () => {
  const findings = statusFindings([
    { ...text, title: 'a', target: 'terraform-provider-x' },
    { ...text, title: 'the same, from another scanner' },
    { ...crypto, title: 'c' },
    { id: 'AVD-1', severity: 'LOW', title: 'no package' },
  ]);
  assert.equal(findings, [crypto, text, { id: 'AVD-1', severity: 'LOW' }]);
});

test.run();
