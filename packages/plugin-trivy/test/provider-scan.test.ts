/**
 * Vulnerability scans of providers against the real trivy and the test bed's fixture database
 * (real Go advisories): a provider executable linking a vulnerable golang.org/x/text, one linking
 * the fixed version, a source tree whose go.mod requires the vulnerable one, and no database.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError, SCANNER_DATABASE_MISSING } from '@opendepot/sdk';
import { ensureTool, FIXED_X_TEXT, FIXTURE_DB_NEXT_UPDATE, FIXTURE_DB_UPDATED_AT, fixtureTrivyDb, VULNERABLE_PROVIDER_SOURCE, vulnerableProviderExecutables } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TrivyScanner } from '../src/index.ts';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

let trivy: string;
let dir: string;
/** A copy of the fixture database's cache dir: trivy writes its scan cache beside the DB. */
let cacheDir: string;
let vulnerable: Map<string, string>;
let fixed: Map<string, string>;
test.before(async () => {
  trivy = await ensureTool('trivy');
  dir = await mkdtemp(join(tmpdir(), 'opendepot-trivy-provider-test-'));
  cacheDir = join(dir, 'cache');
  await cp(await fixtureTrivyDb(), cacheDir, { recursive: true });
  vulnerable = await vulnerableProviderExecutables('1.0.0', PLATFORMS);
  fixed = await vulnerableProviderExecutables('1.0.1', PLATFORMS, FIXED_X_TEXT);
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const unhandled = (e: unknown) => e;
const target = (path: string, kind: 'provider' | 'provider-source' = 'provider') => ({ kind, path, name: 'registry.terraform.io/opendepot/vulnerable', version: '1.0.0' });

test('a provider executable linking golang.org/x/text v0.3.7 reports CVE-2022-32149 HIGH with the package and its versions, and the database age', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir }).init();
  const report = await scanner.scan({ ...target(vulnerable.get('linux_amd64')!), platform: 'linux_amd64' });
  assert.is(report.scanner, scanner.scanner);
  assert.equal(
    report.findings.map(({ id, severity, pkg, installedVersion, fixedVersion }) => ({ id, severity, pkg, installedVersion, fixedVersion })),
    [{ id: 'CVE-2022-32149', severity: 'HIGH', pkg: 'golang.org/x/text', installedVersion: 'v0.3.7', fixedVersion: '0.3.8' }],
  );
  assert.match(report.findings[0]!.title, /ParseAcceptLanguage/);
  assert.is(report.findings[0]!.target, 'terraform-provider-vulnerable_v1.0.0: golang.org/x/text');
  assert.equal(report.database, {
    updatedAt: new Date(FIXTURE_DB_UPDATED_AT).toISOString(),
    nextUpdate: new Date(FIXTURE_DB_NEXT_UPDATE).toISOString(),
    downloadedAt: new Date(FIXTURE_DB_UPDATED_AT).toISOString(),
  });
});

test('an unpacked package directory of another platform (darwin_arm64) is scanned through its executable', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir }).init();
  const unpacked = join(dir, 'darwin_arm64');
  await mkdir(unpacked, { recursive: true });
  await cp(vulnerable.get('darwin_arm64')!, join(unpacked, 'terraform-provider-vulnerable_v1.0.0'));
  const report = await scanner.scan({ ...target(unpacked), platform: 'darwin_arm64' });
  assert.equal(
    report.findings.map((f) => `${f.id} ${f.pkg} ${f.installedVersion}`),
    ['CVE-2022-32149 golang.org/x/text v0.3.7'],
  );
});

test('a provider executable linking the fixed golang.org/x/text has no findings, and still reports the database it used', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir }).init();
  for (const platform of ['linux_amd64', 'darwin_arm64']) {
    const report = await scanner.scan({ ...target(fixed.get(platform)!), platform });
    assert.equal(report.findings, [], platform);
    assert.is(report.database?.updatedAt, new Date(FIXTURE_DB_UPDATED_AT).toISOString());
  }
});

test('a provider source tree whose go.mod requires golang.org/x/text v0.3.7 reports CVE-2022-32149 on go.mod', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir }).init();
  const source = join(dir, 'source');
  await cp(VULNERABLE_PROVIDER_SOURCE, source, { recursive: true });
  assert.match(await readFile(join(source, 'go.mod'), 'utf8'), /golang\.org\/x\/text v0\.3\.7/);
  const report = await scanner.scan(target(source, 'provider-source'));
  assert.equal(
    report.findings.map((f) => `${f.id} ${f.severity} ${f.target} ${f.installedVersion} -> ${f.fixedVersion}`),
    ['CVE-2022-32149 HIGH go.mod: golang.org/x/text v0.3.7 -> 0.3.8'],
  );
});

test('no database and no dbRepository: a ScannerDatabaseMissing error naming the fix, never a clean report', async () => {
  const empty = join(dir, 'empty-cache');
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir: empty }).init();
  for (const t of [target(fixed.get('linux_amd64')!), target(VULNERABLE_PROVIDER_SOURCE, 'provider-source')]) {
    const err = await scanner.scan(t).then(() => undefined, unhandled);
    assert.ok(isOpenDepotError(err, 'unavailable'), String(err));
    assert.is((err as { conditionReason?: string }).conditionReason, SCANNER_DATABASE_MISSING);
    assert.is(err.field, 'cacheDir');
    assert.ok(err.message.includes(join(empty, 'db')), err.message);
    assert.match(err.hint ?? '', /cacheDir.*pre-populated.*dbRepository/s);
  }
  // A database with metadata.json but no trivy.db is no database either.
  await mkdir(join(empty, 'db'), { recursive: true });
  await writeFile(join(empty, 'db', 'metadata.json'), JSON.stringify({ Version: 2, UpdatedAt: FIXTURE_DB_UPDATED_AT }));
  const err = await scanner.scan(target(fixed.get('linux_amd64')!)).then(() => undefined, unhandled);
  assert.is((err as { conditionReason?: string }).conditionReason, SCANNER_DATABASE_MISSING);
});

test('dbRepository is passed to trivy as --db-repository; a mirror that cannot be reached is a missing database, not a clean report', async () => {
  const log = join(dir, 'args.log');
  const wrapper = join(dir, 'trivy-args.sh');
  await writeFile(wrapper, `#!/bin/sh\necho "$@" >> '${log}'\nexec '${trivy}' "$@"\n`, { mode: 0o755 });
  const empty = join(dir, 'mirror-cache');
  const scanner = await new TrivyScanner({ binary: wrapper, cacheDir: empty, dbRepository: '127.0.0.1:9/mirror/trivy-db:2', timeoutSeconds: 60 }).init();
  const err = await scanner.scan(target(fixed.get('linux_amd64')!)).then(() => undefined, unhandled);
  assert.ok(isOpenDepotError(err, 'unavailable'), String(err));
  assert.is((err as { conditionReason?: string }).conditionReason, SCANNER_DATABASE_MISSING);
  const args = (await readFile(log, 'utf8')).trim().split('\n').pop()!;
  assert.match(args, /^rootfs .*--scanners vuln .*--offline-scan .*--db-repository 127\.0\.0\.1:9\/mirror\/trivy-db:2 /);
  assert.not.match(args, /--skip-db-update/);
});

test.run();
