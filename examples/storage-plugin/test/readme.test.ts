/** The README's configuration table is the one generated from the config schema. */
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configTable } from '../scripts/config-table.ts';

test('the README documents every config field exactly as the schema defines it', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const documented = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
  assert.ok(documented !== undefined, 'the README has no config-table markers');
  assert.fixture(documented, configTable());
  for (const field of ['url', 'username', 'passwordSecretRef', 'requestTimeoutSeconds']) assert.match(documented, `| \`${field}\` |`);
});

test.run();
