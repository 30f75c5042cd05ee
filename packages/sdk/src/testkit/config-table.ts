/**
 * A plugin's README configuration table, generated from its config schema, so the documentation
 * cannot drift from what the host validates: print it with {@link configTable}, keep it between
 * `<!-- config-table:start -->` and `<!-- config-table:end -->` in the README, and have a test
 * compare {@link readmeConfigTable} with it.
 */
import type { JsonSchema } from '../plugin.ts';

interface PropertySchema {
  type?: string;
  description?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  properties?: Record<string, PropertySchema>;
}

/** The Markdown table of every field of `schema`; nested objects as `parent.child`. */
export function configTable(schema: JsonSchema): string {
  const rows = ['| field | type | required | default | description |', '|---|---|---|---|---|'];
  const walk = (props: Record<string, PropertySchema>, required: readonly string[], prefix: string, parentRequired: boolean): void => {
    for (const [name, prop] of Object.entries(props)) {
      const needed = required.includes(name) ? (parentRequired ? 'yes' : `with \`${prefix.slice(0, -1)}\``) : 'no';
      const fallback = prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``;
      rows.push(`| \`${prefix}${name}\` | ${typeOf(prop)} | ${needed} | ${fallback} | ${escapeCell(prop.description ?? '')} |`);
      if (prop.properties !== undefined) walk(prop.properties, prop.required ?? [], `${prefix}${name}.`, false);
    }
  };
  const root = schema as PropertySchema;
  walk(root.properties ?? {}, root.required ?? [], '', true);
  return rows.join('\n');
}

/** The table a README holds between its config-table markers, or undefined when it has none. */
export function readmeConfigTable(readme: string): string | undefined {
  return /<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
}

function typeOf(prop: PropertySchema): string {
  const limits: string[] = [];
  if (prop.enum !== undefined) limits.push(`one of ${prop.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`);
  if (prop.pattern !== undefined) limits.push(`matching \`${prop.pattern.replaceAll('|', '\\|')}\``);
  if (prop.minLength !== undefined || prop.maxLength !== undefined) limits.push(`${prop.minLength ?? 0}–${prop.maxLength ?? '∞'} characters`);
  if (prop.minimum !== undefined || prop.maximum !== undefined) limits.push(`${prop.minimum ?? '−∞'}–${prop.maximum ?? '∞'}`);
  return [prop.type ?? 'any', ...limits].join(', ');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
