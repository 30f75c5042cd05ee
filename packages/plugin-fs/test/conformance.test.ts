/** The filesystem plugin passes every case of the storage conformance suite. */
import { join } from 'node:path';
import { storageConformanceCases } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import plugin from '../src/index.ts';
import { pluginContext, TempDirs } from './context.ts';

const dirs = new TempDirs();
const cases = await storageConformanceCases({
  // Created through the plugin, as the host does; a subdirectory that does not exist yet.
  create: async () => plugin.create({ path: join(await dirs.make(), 'objects') }, pluginContext()),
  cleanup: () => dirs.removeAll(),
  log: (message) => console.log(`    ${message}`),
});
for (const c of cases) test(c.name, c.run);

test.run();
