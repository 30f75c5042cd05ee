/**
 * The ceiling for provider-download.bench.ts: a bare `node:http` server that streams the same
 * file with the same 64 KiB reads and does nothing else (no hashing, no routing, no logging).
 * No Node.js server can serve more on one core of this machine; the registry's figures are
 * read against it. Started like provider-download-server.mjs; it serves the file at every path.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';

/** @type {import('./provider-download.bench.ts').StoredPackage} */
const stored = JSON.parse(process.argv[2]);
const size = statSync(stored.source).size;
const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/zip' });
  pipeline(createReadStream(stored.source, { highWaterMark: 64 * 1024 }), res, () => undefined);
});
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('disconnect', () => server.close(() => process.exit(0)));
