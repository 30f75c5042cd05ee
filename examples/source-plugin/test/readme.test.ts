/** The README's configuration table is the one generated from the config schema. */
import { readFile } from 'node:fs/promises';
import { configTable, readmeConfigTable } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configSchema } from '../src/config.ts';

test('the README documents every config field exactly as the schema defines it', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const documented = readmeConfigTable(readme);
  assert.ok(documented !== undefined, 'the README has no config-table markers');
  assert.fixture(documented, configTable(configSchema));
  for (const field of ['baseUrl', 'allowInsecureHttp', 'caFile', 'maxArchiveBytes', 'requestTimeoutSeconds']) assert.match(documented, `| \`${field}\` |`);
});

test.run();
