/**
 * The vulnerability database from an OCI mirror (dbRepository), with the real trivy and the test
 * bed's stand-in registry serving the fixture database as ghcr.io/aquasecurity/trivy-db:2 does:
 * over HTTPS with an internal CA (dbRepositoryCaFile), an empty cacheDir is filled by the first
 * provider scan; a mirror that is untrusted, answers 404 or 500 never yields a clean report.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError, SCANNER_DATABASE_MISSING } from '@opendepot/sdk';
import {
  createTestCertificates,
  ensureTool,
  FIXTURE_DB_NEXT_UPDATE,
  FIXTURE_DB_UPDATED_AT,
  startTrivyDbRegistryStandin,
  type TrivyDbRegistryStandin,
  vulnerableProviderExecutables,
} from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TrivyDatabaseMissingError, TrivyScanner, type TrivyScannerConfig } from '../src/index.ts';

let trivy: string;
let dir: string;
let caFile: string;
let mirror: TrivyDbRegistryStandin;
let executable: string;
test.before(async () => {
  trivy = await ensureTool('trivy');
  dir = await mkdtemp(join(tmpdir(), 'opendepot-trivy-db-download-test-'));
  const certificates = await createTestCertificates();
  caFile = join(dir, 'mirror-ca.pem');
  await writeFile(caFile, certificates.caPem);
  mirror = await startTrivyDbRegistryStandin({ tls: certificates });
  executable = (await vulnerableProviderExecutables('1.0.0', [{ os: 'linux', arch: 'amd64' }])).get('linux_amd64')!;
});
test.after(async () => {
  await mirror.close();
  await rm(dir, { recursive: true, force: true });
});

const unhandled = (e: unknown) => e;
const target = () => ({ kind: 'provider' as const, path: executable, name: 'registry.terraform.io/opendepot/vulnerable', version: '1.0.0', platform: 'linux_amd64' });
let caches = 0;
/** A scanner with an empty cache directory of its own. */
const scannerWith = async (config: TrivyScannerConfig) => {
  const cacheDir = join(dir, `cache-${++caches}`);
  return { cacheDir, scanner: await new TrivyScanner({ binary: trivy, cacheDir, timeoutSeconds: 120, ...config }).init() };
};

/** Asserts `scan` fails as a missing database pointing at the mirror, and nothing was downloaded. */
async function assertDatabaseMissing(scanner: TrivyScanner, cacheDir: string, dbRepository: string, why: RegExp): Promise<void> {
  const err = await scanner.scan(target()).then(() => undefined, unhandled);
  assert.instance(err, TrivyDatabaseMissingError, String(err));
  assert.ok(isOpenDepotError(err, 'unavailable'));
  assert.is((err as TrivyDatabaseMissingError).conditionReason, SCANNER_DATABASE_MISSING);
  assert.is(err.field, 'dbRepository');
  assert.match(err.message, why);
  assert.ok(err.hint?.includes(dbRepository), err.hint);
  assert.equal(await readdir(join(cacheDir, 'db')).catch(() => []), [], 'no database was written');
}

test('an empty cacheDir and dbRepository on an HTTPS mirror with an internal CA: the first provider scan downloads the database and finds CVE-2022-32149', async () => {
  const { scanner, cacheDir } = await scannerWith({ dbRepository: mirror.dbRepository, dbRepositoryCaFile: caFile });
  const before = Date.now();
  const report = await scanner.scan(target());
  assert.equal(
    report.findings.map((f) => `${f.id} ${f.severity} ${f.pkg} ${f.installedVersion}`),
    ['CVE-2022-32149 HIGH golang.org/x/text v0.3.7'],
  );
  // updatedAt and nextUpdate are the mirror's; downloadedAt is when trivy fetched it.
  assert.is(report.database?.updatedAt, new Date(FIXTURE_DB_UPDATED_AT).toISOString());
  assert.is(report.database?.nextUpdate, new Date(FIXTURE_DB_NEXT_UPDATE).toISOString());
  const downloadedAt = Date.parse(report.database?.downloadedAt ?? '');
  assert.ok(downloadedAt >= before - 1000 && downloadedAt <= Date.now(), `downloadedAt ${report.database?.downloadedAt}`);
  assert.equal((await readdir(join(cacheDir, 'db'))).sort(), ['metadata.json', 'trivy.db']);
  const pulls = mirror.requests.map((r) => `${r.method} ${r.url.replace(/sha256:\w+/, 'sha256:…')} ${r.status}`);
  assert.ok(pulls.includes('GET /v2/aquasecurity/trivy-db/manifests/2 200'), pulls.join('\n'));
  assert.ok(pulls.includes('GET /v2/aquasecurity/trivy-db/blobs/sha256:… 200'), pulls.join('\n'));

  // Downloaded within the hour: the next scan uses it without asking the mirror again.
  const asked = mirror.requests.length;
  assert.is((await scanner.scan(target())).findings.length, 1);
  assert.is(mirror.requests.length, asked);
});

test('a mirror whose certificate the scanner does not trust is a missing database; dbRepositoryInsecure skips the check', async () => {
  const untrusted = await scannerWith({ dbRepository: mirror.dbRepository });
  await assertDatabaseMissing(untrusted.scanner, untrusted.cacheDir, mirror.dbRepository, /certificate signed by unknown authority/);
  const insecure = await scannerWith({ dbRepository: mirror.dbRepository, dbRepositoryInsecure: true });
  assert.is((await insecure.scanner.scan(target())).findings[0]?.id, 'CVE-2022-32149');
});

test('a mirror that answers 404 (no such repository) or 500: a ScannerDatabaseMissing error naming dbRepository, never a clean report', async () => {
  const missing = `${new URL(mirror.url).host}/mirror/not-trivy-db:2`;
  const notFound = await scannerWith({ dbRepository: missing, dbRepositoryCaFile: caFile });
  await assertDatabaseMissing(notFound.scanner, notFound.cacheDir, missing, /NAME_UNKNOWN|404/);
  const broken = await scannerWith({ dbRepository: mirror.dbRepository, dbRepositoryCaFile: caFile });
  mirror.failNext(100, 500);
  try {
    await assertDatabaseMissing(broken.scanner, broken.cacheDir, mirror.dbRepository, /500/);
  } finally {
    mirror.failNext(0);
  }
});

test('the mirror settings are checked at start-up: a CA file that cannot be read, or trust settings without a mirror', async () => {
  const fails = (config: TrivyScannerConfig) => new TrivyScanner({ binary: trivy, cacheDir: join(dir, 'unused'), ...config }).init().then(() => undefined, unhandled);
  const unreadable = await fails({ dbRepository: mirror.dbRepository, dbRepositoryCaFile: join(dir, 'no-such-ca.pem') });
  assert.ok(isOpenDepotError(unreadable, 'input'), String(unreadable));
  assert.is(unreadable.field, 'dbRepositoryCaFile');
  for (const [config, field] of [
    [{ dbRepositoryCaFile: caFile }, 'dbRepositoryCaFile'],
    [{ dbRepositoryInsecure: true }, 'dbRepositoryInsecure'],
  ] as const) {
    const err = await fails(config);
    assert.ok(isOpenDepotError(err, 'input'), String(err));
    assert.is(err.field, field);
    assert.match(err.message, /dbRepository is not/);
  }
});

test.run();
