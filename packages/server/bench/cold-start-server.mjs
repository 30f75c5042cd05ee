/**
 * The server process of cold-start.bench.ts, run as in production: the compiled dist/, no
 * TypeScript loader (it alone holds tens of MB). argv[2] is the configuration: `before` (the
 * informer defaults), `served-<n>` (the server's field transform, list pages of n; 0: one answer),
 * `streamed` (the server's field transform, filled by the API server's streaming list), or `ceiling` (one bare list with node:https, the answer built once, served by node:http).
 */
import { createServer } from 'node:http';
import { request } from 'node:https';
import { compareVersions, createInformer, createKubeClient, createLogger, RESOURCES } from '@opendepot/core';
import { createRegistryServer, keepServedFields } from '@opendepot/server';

const config = process.argv[2];

function reportUsage() {
  process.on('message', () => {
    globalThis.gc?.();
    const usage = process.memoryUsage();
    process.send({ type: 'usage', rss: usage.rss, heapUsed: usage.heapUsed });
  });
  process.on('disconnect', () => process.exit(0));
}

async function serveRegistry() {
  const client = createKubeClient({ kubeconfigPath: process.env.BENCH_KUBECONFIG });
  const options = config === 'before' ? {} : config === 'streamed' ? { streamingList: true, transform: keepServedFields } : { listPageSize: Number(config.split('-')[1]), transform: keepServedFields };
  const modules = createInformer(client, RESOURCES.module, options);
  const versions = createInformer(client, RESOURCES.version, options);
  const server = createRegistryServer({
    informers: { modules, versions },
    resolveStorage: () => Promise.reject(new Error('no archive is served by this benchmark')),
    logger: createLogger({ name: 'opendepot-server', level: 'warn' }),
    defaultMetrics: false,
  });
  const listening = await server.listen({ port: 0, host: '127.0.0.1' });
  void modules.start();
  void versions.start();
  reportUsage();
  process.send({ type: 'ready', url: listening.url });
}

async function serveCeiling() {
  let body;
  const server = createServer((_req, res) => {
    if (body === undefined) {
      res.writeHead(503);
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  reportUsage();
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` });
  const { group, version, plural } = RESOURCES.version;
  const list = await new Promise((resolve, reject) => {
    const req = request(`${process.env.BENCH_SERVER}/apis/${group}/${version}/${plural}`, { ca: process.env.BENCH_CA, headers: { authorization: `Bearer ${process.env.BENCH_TOKEN}` } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const ready = JSON.parse(list)
    .items.filter((v) => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((v) => v.spec.version);
  body = Buffer.from(JSON.stringify({ modules: [{ versions: ready.sort(compareVersions).map((v) => ({ version: v })) }] }));
}

if (config === 'ceiling') await serveCeiling();
else await serveRegistry();
