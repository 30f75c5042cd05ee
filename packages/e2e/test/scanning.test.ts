/**
 * Scanning end to end, all real: the operator loads @opendepot/plugin-trivy from configuration
 * and runs the real trivy over every module version between fetch and store. With
 * `operator.scanning.blockSeverities: [CRITICAL, HIGH]` a version whose security group lets SSH in
 * from anywhere (AWS-0107, HIGH) is Stalled (ScanBlocked) and never stored or listed; clean versions are Ready with the
 * scan summary in status and the full report in storage; `tofu init` only sees the clean ones.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLEAN_MODULE_TF, createGitRepo, ensureTool, INSECURE_MODULE_TF } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Condition } from './support/resources.ts';

interface VersionObj {
  metadata: { name: string };
  spec: { version: string };
  status?: {
    conditions?: Condition[];
    checksum?: string;
    storageKey?: string;
    scan?: { scanner: string; scannedAt: string; critical: number; high: number; medium: number; low: number; unknown: number; blocked: boolean; reportKey: string };
  };
}

let env: RegistryEnv;

const condition = (v: VersionObj, type: string) => v.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const versionsOf = async () => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', 'opendepot.defdev.io/owner-name=network', '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: VersionObj[] }).items;
};
const byVersion = async (version: string) => (await versionsOf()).find((v) => v.spec.version === version);

test.before(async () => {
  const trivy = await ensureTool('trivy');
  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-trivy', config: { binary: trivy } }],
      operator: { scanning: { blockSeverities: ['CRITICAL', 'HIGH'] } },
    },
  });
  const repo = await createGitRepo(join(env.dir, 'network-repo'), {
    tags: {
      'v1.0.0': { 'main.tf': CLEAN_MODULE_TF },
      'v1.1.0': { 'main.tf': INSECURE_MODULE_TF, 'outputs.tf': 'output "version" {\n  value = "1.1.0"\n}\n' },
      'v1.2.0': { 'main.tf': CLEAN_MODULE_TF, 'versions.tf': 'terraform {\n  required_version = ">= 1.5.0"\n}\n' },
    },
  });
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'network' },
    spec: { moduleConfig: { name: 'network', provider: 'aws', repoUrl: repo.url, fileFormat: 'tar.gz' }, versions: [{ version: '1.0.0' }, { version: '1.1.0' }, { version: '1.2.0' }] },
  });
});

test.after(async () => {
  await env?.stop();
});

test('clean versions are stored and Ready with the scan summary in status and the full report in storage', async () => {
  for (const version of ['1.0.0', '1.2.0']) {
    const v = await eventually(
      `${version} Ready`,
      async () => {
        const found = await byVersion(version);
        return found && condition(found, 'Ready') ? found : undefined;
      },
      120_000,
    );
    const scan = v.status!.scan!;
    assert.match(scan.scanner, /^trivy 0\.\d+\.\d+$/);
    assert.match(scan.scannedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal({ critical: scan.critical, high: scan.high, blocked: scan.blocked }, { critical: 0, high: 0, blocked: false });
    assert.is(scan.reportKey, `${v.status!.storageKey}.scan-report.json`);
    const report = JSON.parse(await readFile(await env.blobOf(scan.reportKey), 'utf8')) as { scanner: string; blocked: boolean; findings: unknown[] };
    assert.equal({ scanner: report.scanner, blocked: report.blocked, findings: report.findings }, { scanner: scan.scanner, blocked: false, findings: [] });
    assert.match(condition(v, 'Ready')!.message, /scanned by trivy 0\.\d+\.\d+: 0 critical, 0 high/);
  }
});

test('a version with a HIGH finding is Stalled (ScanBlocked), with an Event, the findings in status and storage, and no archive stored', async () => {
  const v = await eventually(
    '1.1.0 Stalled',
    async () => {
      const found = await byVersion('1.1.0');
      return found && condition(found, 'Stalled') ? found : undefined;
    },
    120_000,
  );
  const stalled = condition(v, 'Stalled')!;
  assert.is(stalled.reason, 'ScanBlocked');
  assert.match(stalled.message, /operator\.scanning\.blockSeverities/);
  assert.match(stalled.message, /AWS-0107 HIGH \(main\.tf:10\)/);
  assert.is(v.status?.checksum, undefined, 'nothing recorded as stored');
  const scan = v.status!.scan!;
  assert.ok(scan.blocked);
  assert.equal({ critical: scan.critical, high: scan.high }, { critical: 0, high: 1 });
  const report = JSON.parse(await readFile(await env.blobOf(scan.reportKey), 'utf8')) as { blocked: boolean; findings: { id: string; severity: string; scanner: string }[] };
  assert.ok(report.blocked);
  assert.ok(
    report.findings.some((f) => f.id === 'AWS-0107' && f.severity === 'HIGH' && /^trivy /.test(f.scanner)),
    JSON.stringify(report.findings),
  );
  const archiveKey = scan.reportKey.replace(/\.scan-report\.json$/, '');
  const stored = await env.blobOf(archiveKey).then(
    () => true,
    () => false,
  );
  assert.is(stored, false, 'the blocked archive is not in storage');
  const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${v.metadata.name}`, '-o', 'json']);
  const reasons = (JSON.parse(events.stdout) as { items: { reason: string }[] }).items.map((e) => e.reason);
  assert.ok(reasons.includes('ScanBlocked'), reasons.join(', '));
  const wide = await env.kubectl(['get', 'versions', '-n', env.namespace, '-o', 'wide']);
  assert.match(wide.stdout, /SCAN-BLOCKED\s+HIGH\s+CRITICAL/);
  assert.match(wide.stdout, new RegExp(`${v.metadata.name}\\s+False\\s+1\\.1\\.0\\s+.*\\s+true\\s+1\\s+0\\s`));
});

test("the Module adds its Versions' scans up in status.scan and reports the blocked version in its Stalled condition", async () => {
  const module = await eventually('Module status.scan of all three versions', async () => {
    const m = await env.get<{ status?: { scan?: Record<string, unknown>; progress?: string; conditions?: Condition[] } }>('module', 'network');
    return m.status?.scan?.scannedVersions === 3 ? m : undefined;
  });
  assert.equal(module.status!.scan, { scannedVersions: 3, critical: 0, high: 1, medium: 0, low: 0, unknown: 0, blockedVersions: ['1.1.0'] });
  assert.is(module.status!.progress, '2/3');
  const stalled = module.status!.conditions!.find((c) => c.type === 'Stalled' && c.status === 'True');
  assert.is(stalled?.reason, 'ScanBlocked');
  assert.match(stalled!.message, /1\.1\.0: the scan policy/);
});

test('tofu init only sees the clean versions: ">= 1.0.0" installs 1.2.0 and "1.1.0" has no available version', async () => {
  const main = (constraint: string) => `module "network" {\n  source  = "${HOST}/${env.namespace}/network/aws"\n  version = "${constraint}"\n}\n`;
  const run = await env.client('tofu', main('>= 1.0.0, < 1.2.0'));
  assert.is(run.code, 0, run.output);
  assert.match(run.output, /network\/aws 1\.0\.0/);
  const latest = await env.client('tofu', main('>= 1.0.0'));
  assert.is(latest.code, 0, latest.output);
  assert.match(latest.output, /network\/aws 1\.2\.0/);
  const blocked = await env.client('tofu', main('1.1.0'));
  assert.is.not(blocked.code, 0, blocked.output);
  assert.match(blocked.output, /no available version|does not have/i);
});

test('dropping the blocked version from the Module deletes its Version and its scan report', async () => {
  const blocked = (await byVersion('1.1.0'))!;
  const reportBlob = await env.blobOf(blocked.status!.scan!.reportKey);
  const patch = JSON.stringify({ spec: { versions: [{ version: '1.0.0' }, { version: '1.2.0' }] } });
  const r = await env.kubectl(['patch', 'module', 'network', '-n', env.namespace, '--type', 'merge', '-p', patch]);
  assert.is(r.code, 0, r.stderr);
  await eventually('the blocked Version deleted', async () => ((await byVersion('1.1.0')) === undefined ? true : undefined));
  const left = await readFile(reportBlob).then(
    () => true,
    () => false,
  );
  assert.is(left, false, 'the report of the deleted Version is gone from storage');
  const module = await eventually('Module Ready with 2/2', async () => {
    const m = await env.get<{ status?: { progress?: string; scan?: { blockedVersions: string[] }; conditions?: Condition[] } }>('module', 'network');
    return m.status?.progress === '2/2' && m.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? m : undefined;
  });
  assert.equal(module.status!.scan!.blockedVersions, []);
});

test('with scanning turned off, a version stored again drops its scan summary and report, and so does the Module', async () => {
  const before = (await byVersion('1.0.0'))!;
  const oldReport = await env.blobOf(before.status!.scan!.reportKey);
  await env.restartOperator({});
  const r = await env.kubectl(['patch', 'module', 'network', '-n', env.namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { forceSync: true } })]);
  assert.is(r.code, 0, r.stderr);
  const after = await eventually('1.0.0 stored again without a scan', async () => {
    const v = await byVersion('1.0.0');
    return v && v.status?.scan === undefined && condition(v, 'Ready') ? v : undefined;
  });
  // Stored again (or already verified again after that): either way no scan is claimed.
  assert.not.match(condition(after, 'Ready')!.message, /scanned by/);
  assert.is(
    await readFile(oldReport).then(
      () => true,
      () => false,
    ),
    false,
    'the old report is gone',
  );
  await eventually('the Module drops status.scan', async () => {
    const m = await env.get<{ status?: { scan?: unknown } }>('module', 'network');
    return m.status?.scan === undefined ? true : undefined;
  });
});

test.run();
