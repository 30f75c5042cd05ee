/** The CRDs without a cluster: generated files are current, schemas are structural and documented. */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import {
  DURATION_PATTERN,
  GROUP,
  KINDS,
  REPO_URL_PATTERN,
  SHA256_HEX_PATTERN,
  VERSION,
  VERSION_CONSTRAINTS_PATTERN,
  VERSION_PATTERN,
  renderCrds,
  rootSchema,
  mergePresign,
  selectStorageBackend,
  type JsonSchemaProps,
} from '../src/crds/index.ts';

const crdsDir = fileURLToPath(new URL('../../../charts/opendepot/crds/', import.meta.url));
const fixtures = fileURLToPath(new URL('fixtures/manifests/', import.meta.url));

test('the committed CRDs are exactly what the generator writes', async () => {
  const wanted = renderCrds();
  const present = (await readdir(crdsDir)).filter((f) => f.endsWith(`.${GROUP}.yaml`)).sort();
  assert.equal(present, [...wanted.keys()].sort(), 'charts/opendepot/crds holds other CRD files than the generator writes: run `npm run gen:crds`');
  for (const [name, text] of wanted) {
    const committed = await readFile(crdsDir + name, 'utf8');
    assert.ok(committed === text, `charts/opendepot/crds/${name} is stale: run \`npm run gen:crds\``);
  }
});

test('five namespaced kinds in opendepot.defdev.io/v1alpha1, each with a status subresource', () => {
  const crds = [...renderCrds().values()].map((text) => parse(text));
  assert.equal(crds.map((c) => c.spec.names.kind).sort(), ['Depot', 'GroupBinding', 'Module', 'Provider', 'Version']);
  const shortNames = new Set<string>();
  for (const crd of crds) {
    assert.is(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.is(crd.metadata.name, `${crd.spec.names.plural}.${GROUP}`);
    assert.is(crd.spec.group, GROUP);
    assert.is(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.names.categories, ['opendepot']);
    for (const s of crd.spec.names.shortNames) {
      assert.not.ok(shortNames.has(s), `short name ${s} used twice`);
      shortNames.add(s);
    }
    assert.is(crd.spec.versions.length, 1);
    const [v] = crd.spec.versions;
    assert.is(v.name, VERSION);
    assert.ok(v.served && v.storage);
    assert.equal(v.subresources, { status: {} });
  }
});

test('printer columns: Ready, Latest, Synced, Integrity and Age on Module and Provider; the asked ones elsewhere', () => {
  const columns = (kind: string, wide = false) =>
    KINDS.find((k) => k.kind === kind)!
      .printerColumns.filter((c) => wide || !c.priority)
      .map((c) => c.name);
  assert.equal(columns('Module'), ['Ready', 'Latest', 'Synced', 'Integrity', 'Age']);
  assert.equal(columns('Provider'), ['Ready', 'Latest', 'Synced', 'Integrity', 'Age']);
  assert.equal(columns('Version'), ['Ready', 'Version', 'Size', 'Age']);
  assert.ok(columns('Version', true).includes('Checksum'));
  assert.equal(columns('Depot'), ['Ready', 'Modules', 'Providers', 'Last Poll', 'Age']);
  assert.equal(columns('GroupBinding'), ['Ready', 'Expression', 'Age']);
});

/** Problems that make a schema non-structural, undocumented, or too costly for CEL. */
function schemaProblems(node: JsonSchemaProps, path: string, out: string[]): string[] {
  const isMetadata = path.endsWith('.metadata') && path.split('.').length === 2;
  if (!node.type) out.push(`${path}: no type`);
  if (!isMetadata && !node.description?.trim()) out.push(`${path}: no description`);
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (!rule.message?.trim()) out.push(`${path}: CEL rule without message: ${rule.rule}`);
    if (node.type === 'string' && node.maxLength === undefined && !node.enum && !node.format) {
      out.push(`${path}: a string with CEL rules needs maxLength (cost estimate)`);
    }
  }
  if (node.pattern !== undefined) {
    try {
      new RegExp(node.pattern);
    } catch (err) {
      out.push(`${path}: pattern does not compile: ${(err as Error).message}`);
    }
  }
  if (node.enum && !node.enum.every((v) => typeof v === 'string') && node.type === 'string') out.push(`${path}: non-string enum value`);
  switch (node.type) {
    case 'object': {
      const props = node.properties ?? {};
      const open = node['x-kubernetes-preserve-unknown-fields'] === true;
      if (Object.keys(props).length === 0 && !open && !isMetadata) out.push(`${path}: object without properties`);
      if ('additionalProperties' in node && node.properties) out.push(`${path}: properties and additionalProperties together`);
      for (const r of node.required ?? []) if (!(r in props)) out.push(`${path}: required ${r} is not a property`);
      for (const [k, child] of Object.entries(props)) schemaProblems(child, `${path}.${k}`, out);
      break;
    }
    case 'array': {
      if (!node.items) {
        out.push(`${path}: array without items`);
        break;
      }
      if (node.maxItems === undefined) out.push(`${path}: array without maxItems (cost estimate)`);
      const listType = node['x-kubernetes-list-type'];
      if (listType === 'map') {
        for (const key of node['x-kubernetes-list-map-keys'] ?? []) {
          if (!node.items.required?.includes(key)) out.push(`${path}: list-map key ${key} must be required in items`);
        }
      }
      if (listType === 'set' && (node.items.type === 'object' || node.items.type === 'array')) out.push(`${path}: a set of non-scalars`);
      schemaProblems(node.items, `${path}[]`, out);
      break;
    }
    default:
      if (node.properties || node.items) out.push(`${path}: scalar with properties or items`);
  }
  return out;
}

test('every schema is structural: typed and described at every level, lists bounded, rules with messages', () => {
  const problems = KINDS.flatMap((def) => schemaProblems(rootSchema(def), def.kind, []));
  assert.equal(problems, [], problems.join('\n'));
});

test('the schema checker itself catches what it is meant to catch', () => {
  const bad: JsonSchemaProps = {
    type: 'object',
    description: 'x',
    properties: {
      a: { description: 'no type' },
      b: { type: 'string' },
      c: { type: 'array', description: 'c' },
      d: { type: 'string', description: 'd', 'x-kubernetes-validations': [{ rule: 'true', message: '' }] },
    },
    required: ['z'],
  };
  const problems = schemaProblems(bad, 'X', []).join('\n');
  for (const expected of ['X.a: no type', 'X.b: no description', 'X.c: array without items', 'X.d: CEL rule without message', 'X.d: a string with CEL rules needs maxLength', 'X: required z']) {
    assert.ok(problems.includes(expected), `missing "${expected}" in:\n${problems}`);
  }
});

test('the patterns accept the announcement and refuse common mistakes', () => {
  const re = (p: string) => new RegExp(p);
  for (const ok of ['21.10.1', 'v1.2.3', '1.2', '1', '1.2.3-rc.1', '1.2.3+build.5', '2024.01.15']) assert.ok(re(VERSION_PATTERN).test(ok), ok);
  for (const bad of ['latest', '1.2.3.4', 'v', '1..2', ' 1.2.3', '1.2.3 ']) assert.not.ok(re(VERSION_PATTERN).test(bad), bad);
  for (const ok of ['>= 21.10.1, != 21.13.0', '>= 10.0.0', '>= 5.80.0, < 6.0.0', '~> 3.2.0', '6.0.0', '= 1.0', '>=1.0,<2.0']) {
    assert.ok(re(VERSION_CONSTRAINTS_PATTERN).test(ok), ok);
  }
  for (const bad of ['=> 1.0', '>= 1.0,', 'latest', '>= 1.0 < 2.0', '']) assert.not.ok(re(VERSION_CONSTRAINTS_PATTERN).test(bad), bad);
  for (const ok of ['15m', '1h30m', '90s', '1.5h', '500ms']) assert.ok(re(DURATION_PATTERN).test(ok), ok);
  for (const bad of ['15 minutes', '15', 'm', '1d', '']) assert.not.ok(re(DURATION_PATTERN).test(bad), bad);
  for (const ok of ['https://github.com/my-org/x', 'file:///srv/git/x.git', 'ssh://git@host/o/r.git', 'git@github.com:o/r.git']) {
    assert.ok(re(REPO_URL_PATTERN).test(ok), ok);
  }
  for (const bad of ['http://github.com/o/r', 'github.com/o/r', 'ftp://x/y', 'https://']) assert.not.ok(re(REPO_URL_PATTERN).test(bad), bad);
  assert.ok(re(SHA256_HEX_PATTERN).test('a'.repeat(64)));
  assert.not.ok(re(SHA256_HEX_PATTERN).test('A'.repeat(64)));
});

test('mergePresign reads field by field, the first layer that sets a field winning', () => {
  assert.equal(mergePresign({ ttl: '3m' }, undefined, { enabled: true, ttl: '15m' }, { fallbackToProxy: false }), { enabled: true, ttl: '3m', fallbackToProxy: false });
  assert.equal(mergePresign({ enabled: false }, { enabled: true, ttl: '1h' }), { enabled: false, ttl: '1h' });
  assert.is(mergePresign(undefined, {}), undefined);
});

test('selectStorageBackend picks the one backend, presign aside, first-party or plugin', () => {
  assert.equal(selectStorageBackend({ s3: { bucket: 'b', region: 'r' }, presign: { enabled: true } }), {
    key: 's3',
    config: { bucket: 'b', region: 'r' },
    firstParty: true,
  });
  assert.equal(selectStorageBackend({ webdav: { url: 'u' } }), { key: 'webdav', config: { url: 'u' }, firstParty: false });
  assert.throws(() => selectStorageBackend({ presign: { enabled: true } }), /exactly one storage backend, found none/);
  assert.throws(() => selectStorageBackend({ s3: { bucket: 'b', region: 'r' }, gcs: { bucket: 'b' } }), /found s3, gcs/);
  assert.throws(() => selectStorageBackend({ webdav: 'u' }), /storageConfig.webdav must be an object/);
});

test('the announcement fixtures are its four Module, Depot and GroupBinding manifests', async () => {
  const dir = `${fixtures}announcement/`;
  const kinds: string[] = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parse(await readFile(dir + f, 'utf8'));
    assert.is(doc.apiVersion, `${GROUP}/${VERSION}`, f);
    assert.is(doc.metadata.namespace, 'opendepot-system', f);
    kinds.push(doc.kind);
  }
  assert.equal(kinds, ['Depot', 'GroupBinding', 'Module', 'Module']);
});

test.run();
