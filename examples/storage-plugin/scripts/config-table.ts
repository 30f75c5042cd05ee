/**
 * Prints the README's configuration table, generated from the plugin's config schema, so the
 * documentation cannot drift from what the host validates (test/readme.test.ts checks it).
 *
 * Usage: node --conditions=opendepot-source scripts/config-table.ts
 */
import { configSchema } from '../src/config.ts';

interface PropertySchema {
  type?: string;
  description?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  required?: string[];
  properties?: Record<string, PropertySchema>;
}

/** The Markdown table of every field of `schema`, nested objects as `parent.child`. */
export function configTable(schema: PropertySchema = configSchema as PropertySchema): string {
  const rows = ['| field | type | required | default | description |', '|---|---|---|---|---|'];
  const walk = (props: Record<string, PropertySchema>, required: readonly string[], prefix: string, parentRequired: boolean): void => {
    for (const [name, prop] of Object.entries(props)) {
      const isRequired = required.includes(name);
      const needed = isRequired ? (parentRequired ? 'yes' : `with \`${prefix.slice(0, -1)}\``) : 'no';
      const fallback = prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``;
      rows.push(`| \`${prefix}${name}\` | ${typeOf(prop)} | ${needed} | ${fallback} | ${escape(prop.description ?? '')} |`);
      if (prop.properties !== undefined) walk(prop.properties, prop.required ?? [], `${prefix}${name}.`, false);
    }
  };
  walk(schema.properties ?? {}, schema.required ?? [], '', true);
  return rows.join('\n');
}

function typeOf(prop: PropertySchema): string {
  const limits: string[] = [];
  if (prop.pattern !== undefined) limits.push(`matching \`${prop.pattern.replaceAll('|', '\\|')}\``);
  if (prop.minLength !== undefined || prop.maxLength !== undefined) limits.push(`${prop.minLength ?? 0}–${prop.maxLength ?? '∞'} characters`);
  if (prop.minimum !== undefined || prop.maximum !== undefined) limits.push(`${prop.minimum ?? '−∞'}–${prop.maximum ?? '∞'}`);
  return [prop.type ?? 'any', ...limits].join(', ');
}

function escape(text: string): string {
  return text.replaceAll('|', '\\|');
}

if (import.meta.main) console.log(configTable());
