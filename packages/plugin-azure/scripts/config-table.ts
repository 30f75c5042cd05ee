/**
 * Renders the README's configuration table from the plugin's config schema, so the two cannot
 * drift: `node --conditions=opendepot-source scripts/config-table.ts` prints it, and
 * test/readme.test.ts checks the README holds exactly this table.
 */
import { configSchema } from '../src/config.ts';

interface Property {
  type?: string;
  description?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  required?: string[];
  properties?: Record<string, Property>;
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

function typeOf(p: Property): string {
  const parts = [p.type ?? 'any'];
  if (p.pattern !== undefined) parts.push(`pattern \`${p.pattern}\``);
  if (p.minLength !== undefined) parts.push(p.minLength === 1 ? 'not empty' : `at least ${p.minLength} characters`);
  if (p.maxLength !== undefined) parts.push(`at most ${p.maxLength} characters`);
  return parts.join(', ');
}

function rows(properties: Record<string, Property>, required: readonly string[], prefix: string): string[] {
  return Object.entries(properties).flatMap(([name, p]) => [
    `| \`${prefix}${name}\` | ${cell(typeOf(p))} | ${required.includes(name) ? 'yes' : 'no'} | ${p.default === undefined ? '' : `\`${String(p.default)}\``} | ${cell(p.description ?? '')} |`,
    ...(p.properties ? rows(p.properties, p.required ?? [], `${prefix}${name}.`) : []),
  ]);
}

/** The Markdown table of every config field. */
export function configTable(): string {
  const schema = configSchema as Property;
  return ['| field | type | required | default | description |', '|---|---|---|---|---|', ...rows(schema.properties ?? {}, schema.required ?? [], '')].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(configTable());
