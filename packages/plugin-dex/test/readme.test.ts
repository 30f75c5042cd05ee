/** The README documents every config field exactly as the schema defines it. */
import { readFile } from 'node:fs/promises';
import { configTable, readmeConfigTable } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configSchema } from '../src/config.ts';

test('the README holds the configuration table generated from the config schema', async () => {
  const documented = readmeConfigTable(await readFile(new URL('../README.md', import.meta.url), 'utf8'));
  assert.ok(documented !== undefined, 'the README has no config-table markers');
  assert.fixture(documented, configTable(configSchema), 'stale: regenerate it with node --conditions=opendepot-source packages/plugin-dex/scripts/config-table.ts');
});

test.run();
