/**
 * Prints the README's configuration table, generated from the plugin's config schema (a test
 * checks the README holds exactly this): node --conditions=opendepot-source scripts/config-table.ts
 */
import { configTable } from '@opendepot/sdk/testkit';
import { configSchema } from '../src/config.ts';

console.log(configTable(configSchema));
