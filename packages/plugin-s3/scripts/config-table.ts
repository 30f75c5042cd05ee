/**
 * Renders the README's configuration table from the plugin's JSON Schema, so the two cannot
 * drift apart (a test compares them). Run it to print the table:
 *   node --conditions=opendepot-source packages/plugin-s3/scripts/config-table.ts
 */
import type { JsonSchema } from '@opendepot/sdk';
import { configSchema } from '../src/config.ts';

interface PropertySchema {
  type?: string;
  description?: string;
  pattern?: string;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, PropertySchema>;
}

function typeOf(p: PropertySchema): string {
  const parts = [p.type ?? 'any'];
  if (p.pattern !== undefined) parts.push(`matching \`${p.pattern.replace(/\|/g, '\\|')}\``);
  if (p.maxLength !== undefined) parts.push(`at most ${p.maxLength} characters`);
  return parts.join(', ');
}

/** Escapes what Markdown would read as table syntax or HTML. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function rows(properties: Record<string, PropertySchema>, required: string[], path: string): string[] {
  return Object.entries(properties).flatMap(([name, p]) => [
    `| \`${path}${name}\` | ${typeOf(p)} | ${required.includes(name) ? 'yes' : 'no'} | ${cell(p.description ?? '')} |`,
    ...(p.properties ? rows(p.properties, p.required ?? [], `${path}${name}.`) : []),
  ]);
}

/** The Markdown table of every field of `schema`, nested fields as `parent.child`. */
export function configTable(schema: JsonSchema = configSchema): string {
  const s = schema as PropertySchema;
  return ['| field | type | required | description |', '|---|---|---|---|', ...rows(s.properties ?? {}, s.required ?? [], '')].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(configTable());
