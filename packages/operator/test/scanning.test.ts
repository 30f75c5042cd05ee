/** Scanning a module archive before it is stored: unpacking, which scanners run, counting, and the block policy. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError, UnavailableError, type Finding, type Scanner, type ScanTarget } from '@opendepot/sdk';
import { describeBlocking, moduleScanners, scanArchive, ScanFailedError } from '../src/controllers/scanning.ts';
import { tarGzOf } from '@opendepot/testbed';

let work: string;
let archive: string;
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'opendepot-scanning-test-'));
  archive = join(work, 'module.tar.gz');
  await writeFile(
    archive,
    await tarGzOf([
      { name: 'main.tf', content: 'resource "x" "y" {}\n' },
      { name: 'sub/variables.tf', content: 'variable "v" {}\n' },
    ]),
  );
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A scanner plugin written against the SDK contract, remembering what it was shown. */
function scanner(name: string, findings: Finding[], options: { targets?: ScanTarget['kind'][]; fail?: Error } = {}): Scanner & { seen: Array<{ target: ScanTarget; mainTf: string }> } {
  const seen: Array<{ target: ScanTarget; mainTf: string }> = [];
  return {
    seen,
    ...(options.targets && { targets: options.targets }),
    async scan(target) {
      seen.push({ target, mainTf: await readFile(join(target.path, 'main.tf'), 'utf8') });
      if (options.fail) throw options.fail;
      return { findings, scanner: name };
    },
  };
}

const high: Finding = { id: 'AWS-0107', severity: 'HIGH', title: 'open ssh', target: 'main.tf:10' };
const low: Finding = { id: 'AWS-0124', severity: 'LOW', title: 'no description' };

test('module scanners see the unpacked module; provider-only scanners are left out; findings are counted per severity', async () => {
  const a = scanner('trivy 0.74.0', [high, low]);
  const b = scanner('other 1.0', [{ ...low, id: 'X-1' }]);
  const providersOnly = scanner('binary-scanner', [], { targets: ['provider'] });
  const policy = { scanners: [a, providersOnly, b], blockSeverities: [] };
  assert.equal(moduleScanners(policy), [a, b]);
  const outcome = await scanArchive(archive, 'tar.gz', { kind: 'module', name: 'network', version: '1.1.0' }, policy);
  assert.is(a.seen.length, 1);
  assert.is(a.seen[0]!.mainTf, 'resource "x" "y" {}\n');
  assert.equal({ ...a.seen[0]!.target, path: '' }, { kind: 'module', path: '', name: 'network', version: '1.1.0' });
  assert.is(providersOnly.seen.length, 0);
  assert.is(outcome.scanner, 'trivy 0.74.0, other 1.0');
  assert.equal(outcome.counts, { critical: 0, high: 1, medium: 0, low: 2, unknown: 0 });
  assert.equal(
    outcome.findings.map((f) => `${f.scanner}: ${f.id}`),
    ['trivy 0.74.0: AWS-0107', 'trivy 0.74.0: AWS-0124', 'other 1.0: X-1'],
  );
  assert.equal(outcome.blocking, [], 'an empty policy blocks nothing');
  // The unpacked copy is gone once the scan is over.
  assert.not.ok(
    await readFile(join(a.seen[0]!.target.path, 'main.tf')).then(
      () => true,
      () => false,
    ),
  );
});

test('the policy blocks exactly the findings of its severities, and the message lists them', async () => {
  const findings = [high, low, ...Array.from({ length: 6 }, (_, i) => ({ id: `C-${i}`, severity: 'CRITICAL' as const, title: 't' }))];
  const outcome = await scanArchive(archive, 'tar.gz', { kind: 'module', name: 'network', version: '1.1.0' }, { scanners: [scanner('s', findings)], blockSeverities: ['CRITICAL', 'HIGH'] });
  assert.equal(
    outcome.blocking.map((f) => f.id),
    ['AWS-0107', 'C-0', 'C-1', 'C-2', 'C-3', 'C-4', 'C-5'],
  );
  assert.is(describeBlocking(outcome.blocking), 'AWS-0107 HIGH (main.tf:10), C-0 CRITICAL, C-1 CRITICAL, C-2 CRITICAL, C-3 CRITICAL and 2 more');
});

test('a scanner that fails makes a retryable ScanFailedError naming the module, keeping its retry hint', async () => {
  const failing = scanner('s', [], { fail: new UnavailableError('trivy crashed', { retryAfterMs: 5_000 }) });
  const err = await scanArchive(archive, 'tar.gz', { kind: 'module', name: 'network', version: '1.1.0' }, { scanners: [failing], blockSeverities: [] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, ScanFailedError);
  assert.ok(isOpenDepotError(err, 'unavailable'));
  assert.is((err as ScanFailedError).retryAfterMs, 5_000);
  assert.match((err as Error).message, 'scanning network 1.1.0 failed: trivy crashed');
});

test.run();
