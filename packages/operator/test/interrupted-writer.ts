/**
 * A child process for the kill -9 test: the operator's real write paths (fetchAndStore into the
 * filesystem plugin, spooled in the operator's spool) fed by a slow upstream, so that the test can
 * kill it in the middle of a large put and of a large spool.
 * Usage: node interrupted-writer.ts <storage root> <spool root> <MiB>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import type { ArchiveSource } from '@opendepot/sdk';
import { fetchAndStore } from '../src/controllers/archive-sync.ts';
import { openSpool } from '../src/runtime/index.ts';

const [storageRoot, spoolRoot, mib] = process.argv.slice(2);
const MiB = 1024 * 1024;

/** An upstream that sends `mib` MiB slowly (a few MiB per second), like a distant mirror. */
const slowSource: ArchiveSource = {
  listVersions: async () => [],
  async fetch() {
    return {
      filename: 'slow.zip',
      size: Number(mib) * MiB,
      body: (async function* () {
        const piece = Buffer.alloc(MiB, 7);
        for (let i = 0; i < Number(mib); i++) {
          yield piece;
          await sleep(40);
        }
      })(),
    };
  },
};

const spool = await openSpool(spoolRoot!);
const storage = await new FilesystemStorage({ path: storageRoot! }).init();
const subject = { kind: 'module', name: 'slow', provider: 'aws' } as never;
// One put streams straight into storage; the other is spooled first (as when a scanner looks at it).
void fetchAndStore(slowSource, subject, '1.0.0', storage, 'modules/ns/slow/aws/1.0.0/slow-aws-1.0.0.zip', { format: 'zip' });
void fetchAndStore(slowSource, subject, '1.0.0', storage, 'modules/ns/spooled/aws/1.0.0/spooled-aws-1.0.0.zip', { format: 'zip', spoolDir: spool.dir, beforeStore: async () => true });
console.log(JSON.stringify({ pid: process.pid, spool: spool.dir }));
