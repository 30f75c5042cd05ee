/**
 * The server side of provider-download.bench.ts, in its own process, run as production runs it:
 * the compiled server (dist/, so build first) with no TypeScript loader, one provider Version in a
 * static informer and the real filesystem storage backend. Plain JavaScript on purpose: Node's
 * type stripping alone adds ~40 MB of resident memory that a production server does not have.
 *
 * Started as `node <flags> provider-download-server.mjs '<json of StoredPackage>'` with an IPC
 * channel; it sends `{ url }` when listening and exits when the channel closes.
 * BENCH_READ_CHUNK_KB (environment) swaps in reads of N KiB, see below.
 */
import { createReadStream, openSync, writeSync } from 'node:fs';
import { createLogger } from '@opendepot/core';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { createRegistryServer } from '@opendepot/server';

/** @type {import('./provider-download.bench.ts').StoredPackage} */
const stored = JSON.parse(process.argv[2]);
const version = {
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Version',
  metadata: { name: `${stored.type}-${stored.version.replace(/\./g, '-')}-linux-amd64`, namespace: stored.namespace },
  spec: {
    kind: 'Provider',
    ownerName: stored.type,
    version: stored.version,
    operatingSystem: 'linux',
    architecture: 'amd64',
    provider: { name: stored.type },
    fileFormat: 'zip',
    storageConfig: { filesystem: { path: stored.root } },
  },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'ArchiveStored', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    checksum: stored.checksum,
    size: stored.size,
    storageKey: stored.key,
    filename: `terraform-provider-${stored.type}_${stored.version}_linux_amd64.zip`,
    protocols: ['5.0'],
  },
};

/** An informer that holds fixed objects and never changes (the informer interface, nothing more). */
function staticInformer(objects) {
  return {
    start: async () => {},
    stop() {},
    synced: () => true,
    list: () => objects,
    get: (namespace, name) => objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    on: () => () => {},
  };
}

const filesystem = await new FilesystemStorage({ path: stored.root }).init();
const readChunk = Number(process.env.BENCH_READ_CHUNK_KB ?? 0) * 1024;
// BENCH_READ_CHUNK_KB: the same bytes (the source copy of the stored zip) read N KiB at a time,
// to show what the storage backend's read size does to memory; the backend reads 256 KiB.
const storage =
  readChunk === 0
    ? filesystem
    : Object.assign(Object.create(filesystem), {
        async get(key, options = {}) {
          const info = await filesystem.stat(key, options);
          const range = options.range ? { start: options.range.start, end: options.range.end } : {};
          return { info, body: createReadStream(stored.source, { highWaterMark: readChunk, signal: options.signal, ...range }) };
        },
      });
// Access logs are written for real (formatted, one write per line) to /dev/null.
const devNull = openSync('/dev/null', 'w');
const server = createRegistryServer({
  informers: { modules: staticInformer([]), versions: staticInformer([version]) },
  resolveStorage: async () => storage,
  logger: createLogger({ name: 'opendepot-server', destination: { write: (line) => writeSync(devNull, line) } }),
});
const listening = await server.listen({ port: 0, host: '127.0.0.1' });
process.on('disconnect', () => void listening.close().then(() => process.exit(0)));
process.send({ url: listening.url });
