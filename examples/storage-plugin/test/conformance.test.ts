/**
 * The WebDAV plugin passes every case of the SDK's storage conformance suite against a real
 * WebDAV server (the `webdav-server` package, in its own process, over a temporary directory),
 * including 1 GiB streamed with flat memory and concurrent writers of one key.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { storageConformanceCases } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import plugin from '../src/index.ts';
import { pluginContext } from './support/context.ts';
import { startWebDavServer } from './support/webdav.ts';

const server = await startWebDavServer();
let run = 0;
const cases = await storageConformanceCases({
  // Created through the plugin, as the host does; each instance in a base collection that does
  // not exist yet, so start-up creates it.
  create: () => plugin.create({ url: `${server.url}objects-${++run}/` }, pluginContext()),
  cleanup: async () => {
    for (const entry of await readdir(server.root)) await rm(join(server.root, entry), { recursive: true, force: true });
  },
  log: (message) => console.log(`    ${message}`),
});
for (const c of cases) test(c.name, c.run);

test.after(() => server.stop());
test.run();
