/** The README documents every config field of each plugin exactly as its schema defines it. */
import { readFile } from 'node:fs/promises';
import { configTable } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIRST_PARTY_PLUGINS } from '../src/index.ts';

test('the README holds, for each plugin, the configuration table generated from its config schema', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const tables = new Map([...readme.matchAll(/<!-- config-table:start (\S+)[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/g)].map((m) => [m[1]!, m[2]!]));
  assert.equal(
    [...tables.keys()],
    FIRST_PARTY_PLUGINS.map((p) => p.name),
    'one table per plugin, in order',
  );
  for (const plugin of FIRST_PARTY_PLUGINS) {
    assert.fixture(
      tables.get(plugin.name)!,
      configTable(plugin.configSchema),
      `${plugin.name} is stale: regenerate with node --conditions=opendepot-source packages/plugin-sources/scripts/config-table.ts`,
    );
  }
});

test.run();
