/**
 * Documents a module version from its unpacked root directory: the README, and the inputs,
 * outputs and required providers its root `.tf` and `.tf.json` files declare (parsed with
 * HashiCorp's HCL parser, never with patterns). A file that cannot be parsed is named in
 * `problems` and the rest is still documented; nothing here fails the version.
 */
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_README_BYTES, MODULE_DOCS_SCHEMA_VERSION, type ModuleDocs, type ModuleInput, type ModuleOutput, type ModuleRequiredProvider } from '@opendepot/core';
import type { HclParser } from './hcl-parser.ts';

/** The most configuration files read, and the largest one. */
const MAX_CONFIG_FILES = 200;
const MAX_CONFIG_BYTES = 1024 * 1024;
/** The README names looked for, in order of preference. */
const README_NAMES = /^readme(\.md|\.markdown)?$/i;
const DESCRIPTION_CHARS = 300;

type Block = Record<string, unknown>;
type Blocks = Map<string, Block>;

const record = (v: unknown): Block => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Block) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `hcl2json` gives every block as a list (a label may repeat); `.tf.json` gives one object. */
function firstBlock(v: unknown): Block {
  return Array.isArray(v) ? record(v[0]) : record(v);
}

/** An expression as written: `${list(string)}` from HCL, `list(string)` from `.tf.json`. */
function expressionText(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const wrapped = /^\$\{([\s\S]*)\}$/.exec(s);
  return (wrapped ? wrapped[1]! : s).trim();
}

/** Collects the labelled blocks of one kind (variable, output) from a parsed file. */
function collect(into: Blocks, parsed: Block, kind: string): void {
  for (const [name, body] of Object.entries(record(parsed[kind]))) if (!into.has(name)) into.set(name, firstBlock(body));
}

function inputOf(name: string, block: Block): ModuleInput {
  const type = expressionText(block.type);
  const description = str(block.description);
  const hasDefault = Object.hasOwn(block, 'default');
  return {
    name,
    ...(type !== undefined && { type }),
    ...(description !== undefined && { description }),
    ...(hasDefault && { default: block.default }),
    required: !hasDefault,
    sensitive: block.sensitive === true,
  };
}

function outputOf(name: string, block: Block): ModuleOutput {
  const description = str(block.description);
  return { name, ...(description !== undefined && { description }), sensitive: block.sensitive === true };
}

/** `required_providers` entries: `{ source, version }` objects, or a bare version string (Terraform 0.12 style). */
function requiredProvidersOf(terraformBlocks: readonly Block[]): { providers: ModuleRequiredProvider[]; requiredVersion?: string } {
  const providers = new Map<string, ModuleRequiredProvider>();
  let requiredVersion: string | undefined;
  for (const block of terraformBlocks) {
    requiredVersion ??= str(block.required_version);
    const lists = Array.isArray(block.required_providers) ? block.required_providers : [block.required_providers];
    for (const entry of lists) {
      for (const [name, value] of Object.entries(record(entry))) {
        if (providers.has(name)) continue;
        const source = str(record(value).source);
        const version = typeof value === 'string' ? value : str(record(value).version);
        providers.set(name, { name, ...(source !== undefined && { source }), ...(version !== undefined && { version }) });
      }
    }
  }
  return { providers: [...providers.values()].sort((a, b) => a.name.localeCompare(b.name)), ...(requiredVersion !== undefined && { requiredVersion }) };
}

/** The README's first prose paragraph as plain text: headings, badges, HTML, code and tables skipped. */
export function readmeDescription(markdown: string): string | undefined {
  for (const paragraph of markdown.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const p = paragraph.trim();
    if (p === '' || /^(#|\[!\[|!\[|<|```|~~~|---|\||>|\s*[-*+] |\d+\. )/.test(p)) continue;
    const text = p
      .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*_]/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (text === '') continue;
    return text.length > DESCRIPTION_CHARS ? `${text.slice(0, DESCRIPTION_CHARS - 1)}…` : text;
  }
  return undefined;
}

async function readReadme(dir: string, names: readonly string[]): Promise<ModuleDocs['readme']> {
  const file = names.filter((n) => README_NAMES.test(n)).sort((a, b) => Number(!/\.md$/i.test(a)) - Number(!/\.md$/i.test(b)) || a.localeCompare(b))[0];
  if (file === undefined) return undefined;
  // At most one byte past the limit is read (to know it was cut): a huge README costs nothing.
  const handle = await open(join(dir, file));
  try {
    const buffer = Buffer.alloc(MAX_README_BYTES + 1);
    let bytesRead = 0;
    while (bytesRead < buffer.length) {
      const { bytesRead: n } = await handle.read(buffer, bytesRead, buffer.length - bytesRead, bytesRead);
      if (n === 0) break;
      bytesRead += n;
    }
    const truncated = bytesRead > MAX_README_BYTES;
    // Cut on a byte bound; a split character at the end decodes as U+FFFD, which is harmless.
    return { file, markdown: buffer.subarray(0, Math.min(bytesRead, MAX_README_BYTES)).toString('utf8'), truncated };
  } finally {
    await handle.close();
  }
}

/** Documents the module unpacked at `dir`. */
export async function extractModuleDocs(dir: string, parser: HclParser): Promise<ModuleDocs> {
  const problems: string[] = [];
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isFile()) names.push(entry.name);
  names.sort();
  const readme = await readReadme(dir, names);
  const configs = names.filter((n) => n.endsWith('.tf') || n.endsWith('.tf.json'));
  if (configs.length > MAX_CONFIG_FILES) problems.push(`only the first ${MAX_CONFIG_FILES} of ${configs.length} configuration files were read`);
  const variables: Blocks = new Map();
  const outputs: Blocks = new Map();
  const terraform: Block[] = [];
  for (const name of configs.slice(0, MAX_CONFIG_FILES)) {
    const { size } = await lstat(join(dir, name));
    if (size > MAX_CONFIG_BYTES) {
      problems.push(`${name}: larger than ${MAX_CONFIG_BYTES} bytes, not read`);
      continue;
    }
    const text = await readFile(join(dir, name), 'utf8');
    let parsed: Block;
    try {
      parsed = record(name.endsWith('.json') ? JSON.parse(text) : await parser.parse(name, text));
    } catch (err) {
      problems.push(`${name}: ${(err instanceof Error ? err.message : String(err)).slice(0, 500)}`);
      continue;
    }
    collect(variables, parsed, 'variable');
    collect(outputs, parsed, 'output');
    terraform.push(...(Array.isArray(parsed.terraform) ? parsed.terraform.map(record) : [record(parsed.terraform)]));
  }
  const { providers, requiredVersion } = requiredProvidersOf(terraform);
  const description = readme ? readmeDescription(readme.markdown) : undefined;
  return {
    schemaVersion: MODULE_DOCS_SCHEMA_VERSION,
    ...(readme && { readme }),
    ...(description !== undefined && { description }),
    // Required inputs first (what a caller must set), then by name, as registries list them.
    inputs: [...variables].map(([name, block]) => inputOf(name, block)).sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name)),
    outputs: [...outputs].map(([name, block]) => outputOf(name, block)).sort((a, b) => a.name.localeCompare(b.name)),
    requiredProviders: providers,
    ...(requiredVersion !== undefined && { requiredVersion }),
    problems,
  };
}
