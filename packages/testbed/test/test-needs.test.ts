/**
 * The runner's reading of what a test file needs. A filtered run builds and starts only that,
 * so the reading must place every test bed helper a test imports and every tool it asks for.
 */
import { glob } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_FILE_GLOBS, testFileNeeds } from '../src/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const testFiles: string[] = [];
for await (const f of glob([...TEST_FILE_GLOBS], { cwd: root, exclude: (p) => p.includes('node_modules') })) testFiles.push(f);
testFiles.sort();

const needsOf = (file: string) => [...testFileNeeds(`${root}${file}`).needs].sort();

test('every test file is read completely: each test bed name placed, each tool named', () => {
  assert.ok(testFiles.length > 50, `found ${testFiles.length} test files`);
  for (const file of testFiles) {
    const { unplaced, unknownTools } = testFileNeeds(`${root}${file}`);
    assert.equal(unplaced, [], `${file}: test bed names the reading cannot place (export them from a module index.ts re-exports)`);
    assert.equal(unknownTools, [], `${file}: ensureTool calls whose tool no literal names (type the parameter with tool names)`);
  }
});

test('a pure unit test needs nothing', () => {
  assert.equal(needsOf('packages/core/test/constraints.test.ts'), []);
  assert.equal(needsOf('packages/core/test/loader.test.ts'), []);
});

test('a file that uses the shared control plane, directly or through a support module, needs it and its tools', () => {
  assert.equal(needsOf('packages/core/test/k8s-informer.test.ts'), ['control-plane', 'etcd', 'kube-apiserver', 'kubectl']);
  // The e2e files reach useControlPlane and tofu through test/support/registry-env.ts.
  const modules = needsOf('packages/e2e/test/modules.test.ts');
  for (const need of ['control-plane', 'tofu'] as const) assert.ok(modules.includes(need), `modules.test needs ${need}: ${modules.join(', ')}`);
});

test('a test bed helper brings the tools it starts', () => {
  assert.ok(needsOf('packages/plugin-s3/test/conformance.test.ts').includes('minio'), 'startMinio needs minio');
  assert.ok(needsOf('packages/core/test/chart.test.ts').includes('helm'), 'the chart test runs helm');
  assert.not.ok(needsOf('packages/plugin-s3/test/conformance.test.ts').includes('control-plane'));
});

test('only a browser test needs chromium: not the HTTP tests of the same UI, not the cluster suite', () => {
  assert.ok(needsOf('packages/e2e/test/browse-ui-browser.test.ts').includes('chromium'), 'launchBrowser installs chromium');
  assert.not.ok(needsOf('packages/e2e/test/browse-ui.test.ts').includes('chromium'));
  assert.not.ok(needsOf('packages/e2e/test/cluster.test.ts').includes('chromium'));
});

test.run();
