/** The README documents every config field exactly as the schema defines it. */
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configTable } from '../scripts/config-table.ts';

test('the README holds the configuration table generated from the config schema', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const table = configTable();
  assert.ok(readme.includes(table), `regenerate the table with: node --conditions=opendepot-source packages/plugin-azure/scripts/config-table.ts\n\n${table}`);
});

test.run();
