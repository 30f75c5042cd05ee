/**
 * The CRDs in a real kube-apiserver: the announcement's manifests are created unchanged, bad
 * manifests are refused with the field named, and kubectl shows the descriptions and columns.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { kubectl, useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { moduleConfigFields, moduleConfigSchema, storageConfigSchema } from '../src/crds/index.ts';

const fixtures = fileURLToPath(new URL('fixtures/manifests/', import.meta.url));
const cp = await useControlPlane();
const ns = `crds-${randomBytes(4).toString('hex')}`;

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

const k = (args: string[], input?: string) => kubectl(cp, args, input === undefined ? {} : { input });

async function yamlFiles(dir: string): Promise<{ file: string; text: string }[]> {
  const names = (await readdir(fixtures + dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(names.map(async (file) => ({ file: `${dir}/${file}`, text: await readFile(`${fixtures}${dir}/${file}`, 'utf8') })));
}

/** Applies a manifest the way the announcement does, and checks the stored spec is the one sent. */
async function createAndCompare(text: string, label: string): Promise<Manifest> {
  const sent = parse(text) as Manifest;
  const applied = await k(['apply', '-n', ns, '-f', '-'], text);
  assert.is(applied.code, 0, `${label} was refused:\n${applied.stderr}`);
  assert.match(applied.stdout, /created/, `${label}: expected a new object, got: ${applied.stdout}`);
  const got = await k(['get', '-n', ns, sent.kind, sent.metadata.name, '-o', 'json']);
  assert.is(got.code, 0, got.stderr);
  // Nothing pruned, nothing defaulted: what is stored is what was written.
  assert.equal(JSON.parse(got.stdout).spec, sent.spec, `${label}: the stored spec differs from the manifest`);
  return sent;
}

async function remove(m: Manifest): Promise<void> {
  const r = await k(['delete', '-n', ns, m.kind, m.metadata.name, '--wait=false']);
  assert.is(r.code, 0, r.stderr);
}

/** The announcement's manifests name `opendepot-system`; the tests use their own namespace. */
function intoTestNamespace(text: string): string {
  const lines = text.split('\n');
  const at = lines.indexOf('  namespace: opendepot-system');
  assert.ok(at > 0, 'fixture has no metadata.namespace: opendepot-system');
  lines[at] = `  namespace: ${ns}`;
  return lines.join('\n');
}

const words = (s: string) => s.replace(/\s+/g, ' ').trim();

test.before(async () => {
  const created = await k(['create', 'namespace', ns]);
  assert.is(created.code, 0, created.stderr);
});

test.after(async () => {
  // There is no namespace controller in the test bed: delete the objects, then the namespace.
  await k(['delete', '-n', ns, 'modules,providers,versions,depots,groupbindings', '--all', '--wait=false']);
  await k(['delete', 'namespace', ns, '--wait=false']);
});

test('every Module, Depot and GroupBinding manifest of the announcement is created unchanged', async () => {
  const files = await yamlFiles('announcement');
  assert.is(files.length, 4);
  for (const { file, text } of files) {
    const sent = await createAndCompare(intoTestNamespace(text), file);
    await remove(sent);
  }
});

test('the announcement Modules also apply with storageConfig and githubClientConfig beside moduleConfig', async () => {
  for (const file of ['module-gitops.yaml', 'module-cicd.yaml']) {
    const doc = parse(await readFile(`${fixtures}announcement/${file}`, 'utf8')) as Manifest & { spec: { moduleConfig: Record<string, unknown> } };
    const { storageConfig, githubClientConfig, ...moduleConfig } = doc.spec.moduleConfig;
    doc.metadata.namespace = ns;
    doc.spec = { moduleConfig, storageConfig, githubClientConfig, versions: doc.spec.versions };
    await remove(await createAndCompare(stringify(doc), `${file} (spec-level layout)`));
  }
});

test('every storageConfig snippet of the announcement is accepted in a Module, in both places', async () => {
  const base = parse(await readFile(`${fixtures}announcement/module-gitops.yaml`, 'utf8')) as Manifest & { spec: { moduleConfig: Record<string, unknown> } };
  const snippets = await yamlFiles('announcement/storage-config');
  assert.is(snippets.length, 5);
  for (const { file, text } of snippets) {
    const { storageConfig } = parse(text) as { storageConfig: unknown };
    const { storageConfig: _nested, ...moduleConfig } = base.spec.moduleConfig;
    const nested = { ...base, metadata: { name: 'snippet-nested', namespace: ns }, spec: { ...base.spec, moduleConfig: { ...moduleConfig, storageConfig } } };
    const beside = { ...base, metadata: { name: 'snippet-beside', namespace: ns }, spec: { ...base.spec, moduleConfig, storageConfig } };
    await remove(await createAndCompare(stringify(nested), `${file} in spec.moduleConfig`));
    await remove(await createAndCompare(stringify(beside), `${file} in spec`));
  }
});

test('other valid manifests (plugin storage keys, git sources, providers, Versions) are stored without losing a field', async () => {
  const files = await yamlFiles('valid');
  assert.ok(files.length >= 10);
  for (const { file, text } of files) await remove(await createAndCompare(text, file));
});

test('malformed manifests are refused with a message naming the offending field', async () => {
  const files = await yamlFiles('malformed');
  assert.ok(files.length >= 12, `only ${files.length} malformed cases`);
  for (const { file, text } of files) {
    const field = /^# field: (.+)$/m.exec(text)?.[1];
    assert.ok(field, `${file} has no "# field:" line`);
    const messages = [...text.matchAll(/^# message: (.+)$/gm)].map((m) => m[1]!);
    const r = await k(['apply', '-n', ns, '-f', '-'], text);
    assert.is.not(r.code, 0, `${file} was accepted:\n${r.stdout}`);
    assert.ok(r.stderr.includes(`${field}:`) || r.stderr.includes(`"${field}"`), `${file}: the error does not name ${field}:\n${r.stderr}`);
    for (const m of messages) assert.ok(r.stderr.includes(m), `${file}: the error lacks "${m}":\n${r.stderr}`);
    const { kind, metadata } = parse(text) as Manifest;
    const left = await k(['get', '-n', ns, kind, metadata.name, '--ignore-not-found', '-o', 'name']);
    assert.is(left.stdout.trim(), '', `${file}: the object exists after all`);
  }
});

test('a Version status is written through the status subresource and validated there', async () => {
  const text = await readFile(`${fixtures}valid/version-provider.yaml`, 'utf8');
  const version = await createAndCompare(text, 'version-provider.yaml');
  const status = {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', reason: 'ArchiveStored', message: 'stored and verified', lastTransitionTime: '2026-05-23T10:00:00Z', observedGeneration: 1 }],
    checksum: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    size: 734003200,
    storageKey: 'providers/hashicorp/aws/5.80.0/terraform-provider-aws_5.80.0_linux_arm64.zip',
    h1: 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    zh: 'zh:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    scan: { scanner: 'trivy', scannedAt: '2026-05-23T10:00:00Z', critical: 0, high: 1, medium: 2, low: 3, unknown: 0, blocked: false, reportKey: 'reports/aws-5.80.0.json' },
    lastVerifiedTime: '2026-05-23T10:00:00Z',
    synced: true,
    syncStatus: 'stored and verified',
  };
  const patched = await k(['patch', '-n', ns, 'version', version.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  assert.is(patched.code, 0, patched.stderr);
  const got = await k(['get', '-n', ns, 'version', version.metadata.name, '-o', 'json']);
  assert.equal(JSON.parse(got.stdout).status, status);

  const bad = await k([
    'patch',
    '-n',
    ns,
    'version',
    version.metadata.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"checksum":"NOT-HEX","conditions":[{"type":"Ready","status":"Yes"}]}}',
  ]);
  assert.is.not(bad.code, 0);
  assert.ok(bad.stderr.includes('status.checksum:'), bad.stderr);
  assert.ok(bad.stderr.includes('status.conditions[0].status:'), bad.stderr);
  assert.ok(bad.stderr.includes('status.conditions[0].reason: Required value'), bad.stderr);
  await remove(version);
});

test("a Version's identity (kind, owner, version, platform) cannot change", async () => {
  const version = await createAndCompare(await readFile(`${fixtures}valid/version-provider.yaml`, 'utf8'), 'version-provider.yaml');
  const r = await k(['patch', '-n', ns, 'version', version.metadata.name, '--type=merge', '-p', '{"spec":{"version":"5.81.0","architecture":"amd64"}}']);
  assert.is.not(r.code, 0);
  assert.ok(r.stderr.includes('spec.version: Invalid value: "string": version is immutable'), r.stderr);
  assert.ok(r.stderr.includes('spec.architecture: Invalid value: "string": architecture is immutable'), r.stderr);
  const ok = await k(['patch', '-n', ns, 'version', version.metadata.name, '--type=merge', '-p', '{"spec":{"forceSync":true}}']);
  assert.is(ok.code, 0, ok.stderr);
  await remove(version);
});

test('kubectl explain module.spec.moduleConfig shows the descriptions', async () => {
  // The API server publishes new CRDs to its OpenAPI document asynchronously.
  let out = '';
  for (let i = 0; i < 60; i++) {
    const r = await k(['explain', 'module.spec.moduleConfig']);
    out = r.stdout;
    if (r.code === 0 && out.includes('FIELDS')) break;
    await new Promise((done) => setTimeout(done, 500));
  }
  const text = words(out);
  for (const description of [
    moduleConfigSchema.json.description!,
    moduleConfigFields.name.json.description!,
    moduleConfigFields.repoUrl.json.description!,
    moduleConfigFields.fileFormat.json.description!,
  ]) {
    assert.ok(text.includes(words(description)), `kubectl explain lacks "${description}":\n${out}`);
  }
  const storage = await k(['explain', 'module.spec.storageConfig.s3']);
  assert.is(storage.code, 0, storage.stderr);
  assert.ok(words(storage.stdout).includes(words(storageConfigSchema.json.properties!.s3!.description!)), storage.stdout);
});

async function header(resource: string, wide = false): Promise<{ head: string; rows: string[] }> {
  const r = await k(['get', '-n', ns, resource, ...(wide ? ['-o', 'wide'] : [])]);
  assert.is(r.code, 0, r.stderr);
  const [head = '', ...rows] = r.stdout.trim().split('\n');
  return {
    head: head
      .trim()
      .split(/\s{2,}/)
      .join('|'),
    rows,
  };
}

test('kubectl get shows the printer columns of every kind; short names and the opendepot category work', async () => {
  const created: Manifest[] = [];
  for (const file of ['module-plugin-storage.yaml', 'provider-hashicorp.yaml', 'version-provider.yaml', 'depot-global-platforms.yaml', 'groupbinding-everything.yaml']) {
    created.push(await createAndCompare(await readFile(`${fixtures}valid/${file}`, 'utf8'), file));
  }
  const ready = { type: 'Ready', status: 'True', reason: 'Synced', message: 'all versions stored', lastTransitionTime: '2026-05-23T10:00:00Z' };
  const patchStatus = async (kind: string, name: string, status: object) => {
    const r = await k(['patch', '-n', ns, kind, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    assert.is(r.code, 0, r.stderr);
  };
  await patchStatus('module', 'plugin-storage', { conditions: [ready], latestVersion: '21.13.0', versionsSynced: 7, versionsTotal: 9, progress: '7/9', integrity: 'UpstreamChanged: 21.10.1' });
  await patchStatus('depot', 'global-platforms', { conditions: [ready], moduleCount: 1, providerCount: 2, lastPollTime: '2026-05-23T10:00:00Z' });

  const modules = await header('modules');
  assert.is(modules.head, 'NAME|READY|LATEST|SYNCED|INTEGRITY|AGE');
  assert.match(modules.rows[0] ?? '', /^plugin-storage\s+True\s+21\.13\.0\s+7\/9\s+UpstreamChanged: 21\.10\.1\s+\S+$/);
  assert.is((await header('providers')).head, 'NAME|READY|LATEST|SYNCED|INTEGRITY|AGE');
  assert.is((await header('versions')).head, 'NAME|READY|VERSION|SIZE|AGE');
  assert.is((await header('versions', true)).head, 'NAME|READY|VERSION|OS|ARCH|CHECKSUM|SIZE|SCAN-BLOCKED|HIGH|CRITICAL|AGE');
  const depots = await header('depots');
  assert.is(depots.head, 'NAME|READY|MODULES|PROVIDERS|LAST POLL|AGE');
  assert.match(depots.rows[0] ?? '', /^global-platforms\s+True\s+1\s+2\s+\S+\s+\S+$/);
  const bindings = await header('groupbindings');
  assert.is(bindings.head, 'NAME|READY|EXPRESSION|AGE');
  assert.ok(bindings.rows[0]?.includes('"platform-admins" in groups'), bindings.rows[0]);

  const short = await k(['get', '-n', ns, 'odm,odp,odv,odd,odgb', '-o', 'name']);
  assert.is(short.code, 0, short.stderr);
  const all = await k(['get', '-n', ns, 'opendepot', '-o', 'name']);
  assert.is(all.code, 0, all.stderr);
  for (const out of [short.stdout, all.stdout]) {
    assert.is(out.trim().split('\n').length, created.length, out);
    for (const kind of ['module', 'provider', 'version', 'depot', 'groupbinding']) assert.ok(out.includes(`${kind}.opendepot.defdev.io/`), out);
  }
  for (const m of created) await remove(m);
});

test.run();
