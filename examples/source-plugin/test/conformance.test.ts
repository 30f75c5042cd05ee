/**
 * The https-dir source passes every case of the SDK's archive-source conformance suite against a
 * loopback HTTPS server with a private CA, created through the plugin as the host does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import plugin from '../src/index.ts';
import { pluginContext } from './support/context.ts';
import { startDirectoryServer } from './support/directory-server.ts';
import { serveVpc, V11 } from './support/fixture.ts';

const server = await startDirectoryServer();
serveVpc(server);
const scratch = await mkdtemp(join(tmpdir(), 'https-dir-conformance-'));
const caFile = join(scratch, 'ca.pem');
await writeFile(caFile, server.caPem);

const subject = { kind: 'module' as const, namespace: 'acme', name: 'vpc', system: 'aws' };
const cases = archiveSourceConformanceCases({
  create: () => plugin.create({ baseUrl: server.url, caFile }, pluginContext()),
  fixture: {
    subject,
    versions: [
      { version: '1.0.0', ref: 'v1.0.0' },
      { version: '1.1.0', ref: '1.1.0' },
      { version: '2.0.0', ref: 'v2.0.0' },
    ],
    fetch: { version: '1.1.0', options: { format: 'tar.gz' }, filename: 'vpc-1.1.0.tar.gz', files: ['main.tf', 'README.md'] },
    missingSubject: { ...subject, name: 'nope' },
    missingVersion: '9.9.9',
    failUpstream: (status) => {
      server.failWith(status);
      return { restore: () => server.failWith(undefined) };
    },
    createLimited: () => plugin.create({ baseUrl: server.url, caFile, maxArchiveBytes: V11.length - 1 }, pluginContext()),
  },
});
for (const c of cases) test(c.name, c.run);

test.after(async () => {
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
});
test.run();
