/**
 * The Trivy scanner against the real trivy binary (built by the test bed): the finding of a module
 * with a known misconfiguration, none for a clean one, and the failures a host must see.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError, isPlugin, PLUGIN_API_VERSION, type PluginContext } from '@opendepot/sdk';
import { CLEAN_MODULE_TF, ensureTool, INSECURE_MODULE_TF } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { configSchema, TrivyScanner } from '../src/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const context = (): PluginContext => ({ logger: silent, signal: new AbortController().signal, clock: { now: () => Date.now() }, configPath: 'plugins[1].config' });

let trivy: string;
let dir: string;
test.before(async () => {
  trivy = await ensureTool('trivy');
  dir = await mkdtemp(join(tmpdir(), 'opendepot-trivy-test-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function moduleDir(name: string, files: Record<string, string>): Promise<string> {
  const path = join(dir, name);
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(path, file), content);
  return path;
}

test('default export: a branded scanner plugin named trivy, with a documented config schema', () => {
  assert.ok(isPlugin(plugin));
  assert.is(plugin.kind, 'scanner');
  assert.is(plugin.name, 'trivy');
  assert.is(plugin.apiVersion, PLUGIN_API_VERSION);
  assert.is(plugin.configSchema, configSchema);
  const properties = configSchema.properties as Record<string, { description?: string }>;
  assert.equal(Object.keys(properties), ['binary', 'timeoutSeconds', 'cacheDir', 'dbRepository', 'dbRepositoryCaFile', 'dbRepositoryInsecure', 'maxConcurrentScans']);
  for (const p of Object.values(properties)) assert.ok((p.description ?? '').length > 20);
});

test('create runs `trivy --version`: the scanner names the version it runs, and scans modules, provider packages and source trees', async () => {
  const scanner = (await plugin.create({ binary: trivy, cacheDir: join(dir, 'cache') }, context())) as TrivyScanner;
  assert.match(scanner.scanner, /^trivy 0\.\d+\.\d+$/);
  assert.equal([...scanner.targets], ['module', 'provider', 'provider-source']);
});

test('a binary that cannot run stops start-up with an input error on the binary field', async () => {
  const err = await Promise.resolve(plugin.create({ binary: join(dir, 'no-such-trivy') }, context())).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(err, 'input'), String(err));
  assert.is(err.field, 'binary');
  assert.match(err.message, /no such executable/);
  assert.match(err.hint ?? '', /absolute path/);
});

test('a module open to the internet: the trivy config finding with id, severity, title, file:line and URL', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir: join(dir, 'cache') }).init();
  const path = await moduleDir('insecure', { 'main.tf': INSECURE_MODULE_TF, 'README.md': '# insecure\n' });
  const report = await scanner.scan({ kind: 'module', path, name: 'insecure', version: '1.0.0' });
  assert.is(report.scanner, scanner.scanner);
  assert.equal(
    report.findings.map((f) => `${f.id} ${f.severity}`),
    ['AWS-0107 HIGH'],
  );
  const open = report.findings[0]!;
  assert.match(open.title, /unrestricted ingress to SSH/);
  assert.is(open.target, 'main.tf:10');
  assert.match(open.url ?? '', /^https:\/\//);
  for (const f of report.findings) assert.ok(['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity));
});

test('a clean module has no findings', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir: join(dir, 'cache') }).init();
  const path = await moduleDir('clean', { 'main.tf': CLEAN_MODULE_TF });
  const report = await scanner.scan({ kind: 'module', path, name: 'clean', version: '1.0.0' });
  assert.equal(report.findings, []);
});

test('a module that references remote module sources is scanned offline: its own code is, the remote code is not fetched', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir: join(dir, 'cache') }).init();
  const path = await moduleDir('remote-sources', {
    'main.tf': INSECURE_MODULE_TF,
    'remote.tf':
      'module "vpc" {\n  source = "git::https://github.com/terraform-aws-modules/terraform-aws-vpc.git?ref=v5.0.0"\n}\n\nmodule "registry" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.0.0"\n}\n',
  });
  const started = Date.now();
  const report = await scanner.scan({ kind: 'module', path, name: 'remote-sources', version: '1.0.0' });
  assert.equal(
    report.findings.map((f) => `${f.id} ${f.target}`),
    ['AWS-0107 main.tf:10'],
  );
  assert.ok(Date.now() - started < 60_000, 'no download waited for a network');
});

test('maxConcurrentScans bounds the trivy processes running at once; a scan still waiting can be aborted', async () => {
  // A wrapper that records when each real trivy process starts and ends.
  const log = join(dir, 'runs.log');
  const wrapper = join(dir, 'trivy-wrapper.sh');
  await writeFile(wrapper, `#!/bin/sh\necho "start $(date +%s%N)" >> '${log}'\n'${trivy}' "$@"\nrc=$?\necho "end $(date +%s%N)" >> '${log}'\nexit $rc\n`, { mode: 0o755 });
  const scanner = await new TrivyScanner({ binary: wrapper, cacheDir: join(dir, 'cache'), maxConcurrentScans: 1 }).init();
  await writeFile(log, '');
  const path = await moduleDir('concurrent', { 'main.tf': INSECURE_MODULE_TF });
  const target = { kind: 'module' as const, path, name: 'concurrent', version: '1.0.0' };
  const waiting = new AbortController();
  const scans = [scanner.scan(target), scanner.scan(target), scanner.scan(target, { signal: waiting.signal }), scanner.scan(target)];
  waiting.abort(new Error('gave up waiting'));
  const results = await Promise.allSettled(scans);
  assert.equal(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.is(((results[2] as PromiseRejectedResult).reason as Error).message, 'gave up waiting');
  let running = 0;
  let most = 0;
  const events = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(' ')) as [string, string][];
  for (const [what] of events.sort((a, b) => (BigInt(a[1]) < BigInt(b[1]) ? -1 : 1))) {
    running += what === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  assert.is(events.length, 6, 'three scans ran; the aborted one never started trivy');
  assert.is(most, 1);
});

test('an unknown target kind is refused, and an aborted scan rejects with the abort reason', async () => {
  const scanner = await new TrivyScanner({ binary: trivy, cacheDir: join(dir, 'cache') }).init();
  const refused = await scanner.scan({ kind: 'chart' as 'module', path: dir, name: 'aws', version: '5.80.0' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOpenDepotError(refused, 'input'), String(refused));
  const path = await moduleDir('aborted', { 'main.tf': INSECURE_MODULE_TF });
  const controller = new AbortController();
  const scanning = scanner.scan({ kind: 'module', path, name: 'aborted', version: '1.0.0' }, { signal: controller.signal });
  controller.abort(new Error('operator shutting down'));
  const err = await scanning.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, Error);
  assert.is((err as Error).message, 'operator shutting down');
});

test.run();
