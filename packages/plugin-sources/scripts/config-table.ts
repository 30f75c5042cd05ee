/**
 * Prints the README's configuration tables, one per plugin, generated from the plugins' config
 * schemas (a test checks the README holds exactly these):
 * node --conditions=opendepot-source scripts/config-table.ts
 */
import { configTable } from '@opendepot/sdk/testkit';
import { FIRST_PARTY_PLUGINS } from '../src/index.ts';

for (const plugin of FIRST_PARTY_PLUGINS) {
  console.log(`<!-- config-table:start ${plugin.name} (generated from src/plugins/${plugin.name}.ts by scripts/config-table.ts; a test checks it) -->`);
  console.log(configTable(plugin.configSchema));
  console.log('<!-- config-table:end -->\n');
}
