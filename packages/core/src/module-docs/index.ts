/**
 * A module version's documentation as the operator extracts it when it stores the version (the
 * README, the inputs and outputs declared in its root `.tf` files, the providers it requires) and
 * keeps beside the archive, and as the server reads it back for the browse UI and its JSON API.
 * The reader is defensive: storage is written by the operator, but a reader never trusts bytes
 * to have the shape it expects.
 */

/** Bumped when the shape changes incompatibly; the server reads only versions it knows. */
export const MODULE_DOCS_SCHEMA_VERSION = 1;

/** The most README bytes kept (a longer one is cut and marked truncated). */
export const MAX_README_BYTES = 256 * 1024;

/** One input variable of the module. */
export interface ModuleInput {
  name: string;
  /** The type constraint as written, e.g. `list(string)`; absent when the variable sets none. */
  type?: string;
  description?: string;
  /** The default value (JSON; expressions as `${...}` strings); absent: the input is required. */
  default?: unknown;
  required: boolean;
  sensitive: boolean;
}

/** One output value of the module. */
export interface ModuleOutput {
  name: string;
  description?: string;
  sensitive: boolean;
}

/** A provider the module requires (`terraform { required_providers { ... } }`). */
export interface ModuleRequiredProvider {
  /** The local name, e.g. `aws`. */
  name: string;
  /** Its source address, e.g. `hashicorp/aws`. */
  source?: string;
  /** Its version constraint, e.g. `>= 5.0`. */
  version?: string;
}

/** What the operator extracted from one module version. */
export interface ModuleDocs {
  schemaVersion: typeof MODULE_DOCS_SCHEMA_VERSION;
  readme?: { file: string; markdown: string; truncated: boolean };
  /** The README's first paragraph as plain text (for lists and search), at most 300 characters. */
  description?: string;
  inputs: ModuleInput[];
  outputs: ModuleOutput[];
  requiredProviders: ModuleRequiredProvider[];
  /** `terraform { required_version = ... }`. */
  requiredVersion?: string;
  /** Files that could not be read or parsed, with why (the rest is still documented). */
  problems: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Reads stored documentation; undefined when it is not documentation of a schema version this code knows. */
export function readModuleDocs(value: unknown): ModuleDocs | undefined {
  const v = record(value);
  if (v.schemaVersion !== MODULE_DOCS_SCHEMA_VERSION) return undefined;
  const readme = record(v.readme);
  const markdown = str(readme.markdown);
  const description = str(v.description);
  const requiredVersion = str(v.requiredVersion);
  return {
    schemaVersion: MODULE_DOCS_SCHEMA_VERSION,
    ...(markdown !== undefined && { readme: { file: str(readme.file) ?? 'README.md', markdown, truncated: readme.truncated === true } }),
    ...(description !== undefined && { description }),
    inputs: list(v.inputs).flatMap((item) => {
      const i = record(item);
      const name = str(i.name);
      if (name === undefined) return [];
      const type = str(i.type);
      const desc = str(i.description);
      return [
        {
          name,
          ...(type !== undefined && { type }),
          ...(desc !== undefined && { description: desc }),
          ...('default' in i && { default: i.default }),
          required: i.required === true,
          sensitive: i.sensitive === true,
        },
      ];
    }),
    outputs: list(v.outputs).flatMap((item) => {
      const o = record(item);
      const name = str(o.name);
      if (name === undefined) return [];
      const desc = str(o.description);
      return [{ name, ...(desc !== undefined && { description: desc }), sensitive: o.sensitive === true }];
    }),
    requiredProviders: list(v.requiredProviders).flatMap((item) => {
      const p = record(item);
      const name = str(p.name);
      if (name === undefined) return [];
      const source = str(p.source);
      const version = str(p.version);
      return [{ name, ...(source !== undefined && { source }), ...(version !== undefined && { version }) }];
    }),
    ...(requiredVersion !== undefined && { requiredVersion }),
    problems: list(v.problems).filter((p): p is string => typeof p === 'string'),
  };
}
