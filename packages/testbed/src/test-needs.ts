/**
 * What a test file needs from the test bed before it runs: the shared control plane and which
 * real binaries. The runner reads it from the code, so no file has to declare it: a file needs
 * what its own code and its local imports call (`useControlPlane()`, `ensureTool('tofu')`,
 * `ensureChromium()`), plus
 * what the test bed helpers it imports call. A miss could only cost time, never a failure:
 * `useControlPlane` starts a private control plane and `ensureTool` builds a tool on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolName } from './tools.ts';

/**
 * The shared control plane (`useControlPlane`), Debian's chromium (`ensureChromium`, which
 * `launchBrowser` calls), or a tool to build before the file runs.
 */
export type TestNeed = 'control-plane' | 'chromium' | ToolName;

/**
 * Every tool, in the order the runner builds them: the node components of the real-cluster suite
 * come right after the API server (they reuse its module and build caches, and the cluster suite
 * is the longest file).
 */
export const TOOL_NAMES: readonly ToolName[] = [
  'etcd',
  'kube-apiserver',
  'kubectl',
  'kubelet',
  'trivy',
  'kube-controller-manager',
  'kube-proxy',
  'kube-scheduler',
  'coredns',
  'tofu',
  'terraform',
  'helm',
  'minio',
  'fake-gcs-server',
  'dex',
];

/** Where the test files are, from the repository root (the runner runs each in its own process). */
export const TEST_FILE_GLOBS: readonly string[] = ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'];

/** Tools the shared control plane is made of (the runner starts it; tests then run kubectl). */
export const CONTROL_PLANE_TOOLS: readonly ToolName[] = ['etcd', 'kube-apiserver', 'kubectl'];

const TESTBED = '@opendepot/testbed';
// The sources, also when this module runs from dist/ (the runner reads the test bed's own code).
const TESTBED_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const TESTBED_INDEX = join(TESTBED_SRC, 'index.ts');

interface SourceFacts {
  /** Needs of the file's own code. */
  needs: Set<TestNeed>;
  /** Relative imports, resolved to files. */
  local: string[];
  /** Names imported from the test bed; `'*'` for a namespace or bare import. */
  testbedNames: Set<string>;
  /** `ensureTool(x)` calls whose tool the file does not name anywhere. */
  unknownTools: string[];
}

const facts = new Map<string, SourceFacts>();

function read(file: string): SourceFacts {
  const known = facts.get(file);
  if (known) return known;
  // Comments may mention helpers without calling them; a comment after code stays (it can only add a need).
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const needs = new Set<TestNeed>();
  const unknownTools: string[] = [];
  // A call, not the helper's own definition (`function useControlPlane(`).
  if (/(?<!function\s+)\buseControlPlane\s*\(/.test(text)) needs.add('control-plane');
  if (/(?<!function\s+)\bensureChromium\s*\(/.test(text)) needs.add('chromium');
  for (const m of text.matchAll(/\bensureTool\(\s*'([a-z-]+)'\s*\)/g)) needs.add(m[1] as ToolName);
  // `ensureTool(tool)` where `tool: 'tofu' | 'terraform'`: the file's tool-name literals stand in.
  const named = TOOL_NAMES.filter((t) => text.includes(`'${t}'`));
  for (const m of text.matchAll(/\bensureTool\(\s*([A-Za-z_$][\w$]*)\s*\)/g)) {
    if (named.length === 0) unknownTools.push(`${file}: ensureTool(${m[1]})`);
    for (const t of named) needs.add(t);
  }
  const local: string[] = [];
  const testbedNames = new Set<string>();
  const importFrom = (spec: string, names: string[] | '*') => {
    const target = spec.startsWith('.') ? resolve(dirname(file), spec) : undefined;
    // The test bed's own tests import its index relatively: read that by name too.
    if (spec === TESTBED || target === TESTBED_INDEX) {
      for (const n of names === '*' ? ['*'] : names) testbedNames.add(n);
    } else if (target?.endsWith('.ts') && existsSync(target)) {
      local.push(target);
    }
  };
  // import { a, type B, c as d } from 'x'; export { a } from 'x'; (also across lines)
  for (const m of text.matchAll(/\b(?:import|export)\s+(type\s+)?\{([^{}]*)\}\s*from\s*'([^']+)'/g)) {
    if (m[1]) continue;
    importFrom(m[3]!, namesIn(m[2]!));
  }
  // const { a, b } = await import('x');
  const destructured = /\{([^{}]*)\}\s*=\s*await\s+import\(\s*'([^']+)'\s*\)/g;
  for (const m of text.matchAll(destructured)) importFrom(m[2]!, namesIn(m[1]!));
  // import * as x from 'x'; import x from 'x'; export * from 'x'; import 'x'; import('x')
  for (const m of text.replace(destructured, '').matchAll(/\b(?:import\s+(?!type\b)[\w$*\s]+from|export\s+\*\s+from|import)\s*\(?\s*'([^']+)'/g)) importFrom(m[1]!, '*');
  const result = { needs, local, testbedNames, unknownTools };
  facts.set(file, result);
  return result;
}

function namesIn(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('type '))
    .map((s) => s.split(/\s+as\s+/)[0]!.trim());
}

/** The files `file` reaches through relative imports, itself included. */
function closure(file: string): string[] {
  const seen = new Set<string>();
  const queue = [file];
  for (let f = queue.pop(); f !== undefined; f = queue.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...read(f).local);
  }
  return [...seen];
}

let exportsOfTestbed: Map<string, string> | undefined;

/** Which test bed module defines each exported name (through `index.ts`'s `export *`). */
function testbedExports(): Map<string, string> {
  if (exportsOfTestbed) return exportsOfTestbed;
  const map = new Map<string, string>();
  const index = readFileSync(TESTBED_INDEX, 'utf8');
  for (const m of index.matchAll(/export\s+\*\s+from\s+'\.\/([^']+)'/g)) {
    const module = join(TESTBED_SRC, m[1]!);
    const text = readFileSync(module, 'utf8');
    for (const d of text.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|enum)\s+([\w$]+)/gm)) map.set(d[1]!, module);
    for (const d of text.matchAll(/^export\s*\{([^}]*)\}/gm)) for (const n of namesIn(d[1]!)) map.set(n.split(/\s+as\s+/).pop()!, module);
  }
  exportsOfTestbed = map;
  return map;
}

/** What one test file needs, and the test bed names or tool calls the reading could not place. */
export interface TestFileNeeds {
  needs: Set<TestNeed>;
  /** Names imported from the test bed that no test bed module exports (then every module counts). */
  unplaced: string[];
  /** `ensureTool(x)` calls whose tool no literal in the file names. */
  unknownTools: string[];
}

/** Reads what `file` (a path) needs: from its code, its local imports and the test bed helpers they import. */
export function testFileNeeds(file: string): TestFileNeeds {
  const needs = new Set<TestNeed>();
  const unplaced: string[] = [];
  const unknownTools: string[] = [];
  const modules = new Set<string>();
  const exports = testbedExports();
  for (const f of closure(resolve(file))) {
    const fact = read(f);
    for (const n of fact.needs) needs.add(n);
    unknownTools.push(...fact.unknownTools);
    for (const name of fact.testbedNames) {
      const module = exports.get(name);
      if (module) modules.add(module);
      else {
        if (name !== '*') unplaced.push(`${f}: ${name}`);
        for (const m of new Set(exports.values())) modules.add(m);
      }
    }
  }
  // A test bed helper needs what its module and the test bed modules it imports call.
  for (const module of modules) {
    for (const f of closure(module)) {
      for (const n of read(f).needs) needs.add(n);
      unknownTools.push(...read(f).unknownTools);
    }
  }
  if (needs.has('control-plane')) for (const t of CONTROL_PLANE_TOOLS) needs.add(t);
  return { needs, unplaced, unknownTools: [...new Set(unknownTools)] };
}
