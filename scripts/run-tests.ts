/**
 * Runs every test file of the workspace, each in its own Node process (so memory checks and
 * crashes stay isolated), against one shared real control plane, and ends with the single line
 * `N passed, N failed` counting the tests of all suites together.
 *
 * Usage: node scripts/run-tests.ts [filter...]   (filters are substrings of test file paths)
 *
 * A filtered run builds only the tools its files need and starts the control plane only when
 * one of them uses it (read from the code: `testFileNeeds`), so a pure unit test starts nothing.
 */
import { spawn } from 'node:child_process';
import { glob, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import {
  OWN_CONTROL_PLANE_MARK,
  SHARED_KUBECONFIG_ENV,
  TEST_FILE_GLOBS,
  TEST_RUNNER_ENV,
  TOOL_NAMES,
  CHROMIUM_ENV,
  buildClusterSuiteImages,
  ensureChromium,
  ensureHostPackages,
  ensureTool,
  reclaimStaleClusters,
  startControlPlane,
  testFileNeeds,
  toolEnvName,
  type ControlPlane,
  type TestNeed,
} from '@opendepot/testbed';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const concurrency = Number(process.env.OPENDEPOT_TEST_CONCURRENCY ?? Math.max(1, Math.min(2, availableParallelism())));
const fileTimeoutMs = Number(process.env.OPENDEPOT_TEST_FILE_TIMEOUT_MS ?? 15 * 60_000);
const started = Date.now();

const files: string[] = [];
for await (const f of glob([...TEST_FILE_GLOBS], { cwd: root, exclude: (p) => p.includes('node_modules') })) {
  if (filters.length === 0 || filters.some((x) => f.includes(x))) files.push(f);
}
files.sort();

// The whole suite needs everything; a filtered run only what its files use.
const needs: ReadonlySet<TestNeed> = filters.length === 0 ? new Set<TestNeed>(['control-plane', 'chromium', ...TOOL_NAMES]) : new Set(files.flatMap((f) => [...testFileNeeds(`${root}/${f}`).needs]));
// The real binaries the suites use; built once here (with progress) on a cold machine, in TOOL_NAMES order.
const tools = TOOL_NAMES.filter((t) => needs.has(t));
const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', [TEST_RUNNER_ENV]: '1' };
if (filters.length > 0) console.log(`[opendepot] ${files.length} test files; they need ${needs.size === 0 ? 'no tool and no control plane' : [...needs].join(', ')}`);
// Two builds at a time: on a cold machine each spends much of its time fetching modules, so pairs
// finish in about half the time of one after another (measured: ~15 min instead of ~27).
const toBuild = [...tools];
// The cluster suite's images build beside the tools (the with-trivy one waits for trivy).
const images = files.some((f) => f.includes('cluster.test'))
  ? (async () => {
      const t = Date.now();
      await ensureHostPackages();
      await ensureTool('trivy');
      await buildClusterSuiteImages();
      console.log(`[opendepot] cluster suite images ready in ${((Date.now() - t) / 1000).toFixed(0)}s`);
    })()
  : Promise.resolve();
// Only browser tests need Debian's chromium (apt-get on first use), beside the tool builds.
const browser = needs.has('chromium')
  ? (async () => {
      const t = Date.now();
      try {
        env[CHROMIUM_ENV] = await ensureChromium();
      } catch (err) {
        // The other files still run; the browser tests fail with the reason (e.g. not root to install it).
        console.log(`[opendepot] no chromium: ${(err as Error).message}`);
        return;
      }
      const took = Date.now() - t;
      if (took > 1_000) console.log(`[opendepot] chromium ready in ${(took / 1000).toFixed(0)}s`);
    })()
  : Promise.resolve();
await Promise.all(
  [0, 1].map(async () => {
    for (let tool = toBuild.shift(); tool !== undefined; tool = toBuild.shift()) {
      const t = Date.now();
      env[toolEnvName(tool)] = await ensureTool(tool);
      const took = Date.now() - t;
      if (took > 1_000) console.log(`[opendepot] ${tool} ready in ${(took / 1000).toFixed(0)}s`);
    }
  }),
);

await images;
await browser;

let plane: ControlPlane | undefined;
if (needs.has('control-plane')) {
  const t0 = Date.now();
  plane = await startControlPlane();
  env[SHARED_KUBECONFIG_ENV] = plane.kubeconfigPath;
  console.log(`[opendepot] control plane up in ${Date.now() - t0} ms at ${plane.server}; ${files.length} test files, ${concurrency} at a time`);
} else {
  console.log(`[opendepot] no control plane; ${files.length} test files, ${concurrency} at a time`);
}

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  ms: number;
  output: string;
}

function runFile(file: string): Promise<FileResult> {
  return new Promise((resolve) => {
    const begin = Date.now();
    const child = spawn(process.execPath, ['--conditions=opendepot-source', '--expose-gc', file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[runner] ${file} timed out after ${fileTimeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      let result: FileResult;
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        // The file crashed before uvu could report: count it as one failed test.
        result = { file, passed: 0, failed: 1, ms: Date.now() - begin, output };
      } else {
        // Skipped tests count as failed: a skipped test is a defect here.
        const failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
        result = { file, passed, failed, ms: Date.now() - begin, output };
      }
      resolve(result);
    });
  });
}

const results: FileResult[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const file = files[next++]!;
    const r = await runFile(file);
    results.push(r);
    const status = r.failed === 0 ? 'ok  ' : 'FAIL';
    console.log(`${status} ${relative('.', file)}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)}s)`);
    if (r.failed > 0 || process.env.OPENDEPOT_TEST_VERBOSE) console.log(r.output.replace(/^/gm, '    | '));
    // Not a failure (the file had a control plane of its own), but the needs reading missed it.
    if (r.output.includes(OWN_CONTROL_PLANE_MARK))
      console.log(`warn ${relative('.', file)} started its own control plane: testFileNeeds (packages/testbed/src/test-needs.ts) did not see that it uses one`);
  }
}
try {
  await Promise.all(Array.from({ length: concurrency }, worker));
} finally {
  await plane?.stop();
  // A cluster-suite file killed on timeout had no chance to stop its cluster: leave the machine as it was.
  if (process.getuid?.() === 0) await reclaimStaleClusters();
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
await writeFile(`${root}/.test-results.json`, JSON.stringify({ passed, failed, seconds: (Date.now() - started) / 1000, files: results.map(({ output: _o, ...r }) => r) }, null, 2)).catch(
  () => undefined,
);
console.log(`[opendepot] suite time ${((Date.now() - started) / 1000).toFixed(0)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && files.length > 0 ? 0 : 1;
