/**
 * What one client may hold (`server.limits`), over real sockets: a request whose headers never
 * finish, a client that never reads its download, more connections than the cap, an idle
 * keep-alive connection. Each is cut by Node's own server options, and a cut download releases
 * its storage stream. Bounds are generous: the machine running this is shared and loaded.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificates } from '@opendepot/testbed';
import type { ListenOptions } from '../src/index.ts';
import { listen } from '../src/listen.ts';
import { moduleKey, moduleResource, NS, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';

const SLACK_MS = 15_000;

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Milliseconds until the server closes `socket` (the client reads, so it sees the end), or Infinity after `ms`. */
function closedAfter(socket: Socket, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), ms);
    socket.on('error', () => {});
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

async function withLimits(limits: NonNullable<ListenOptions['limits']>, run: (r: TestRegistry) => Promise<void>): Promise<void> {
  const r = await startTestRegistry({ limits });
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

test('a request whose headers never finish is closed after headersTimeoutSeconds (slowloris)', async () => {
  await withLimits({ headersTimeoutSeconds: 1, requestTimeoutSeconds: 2 }, async (r) => {
    const socket = await open(r.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const dribble = setInterval(() => socket.writable && socket.write('a'), 200);
    const after = await closedAfter(socket, 1000 + SLACK_MS);
    clearInterval(dribble);
    assert.ok(after >= 900 && after < 1000 + SLACK_MS, `closed after ${after} ms`);
  });
});

test('over HTTPS, a connection that never finishes its TLS handshake is closed after headersTimeoutSeconds too', async () => {
  const certs = await createTestCertificates();
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-limits-'));
  await writeFile(join(dir, 'cert.pem'), certs.certPem);
  await writeFile(join(dir, 'key.pem'), certs.keyPem);
  const server = await listen((_req, res) => res.end('ok'), {
    port: 0,
    host: '127.0.0.1',
    tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
    limits: { headersTimeoutSeconds: 1 },
    closeGraceMs: 100,
  });
  try {
    const socket = await open(server.url);
    // Plain TCP: no ClientHello ever comes.
    const after = await closedAfter(socket, 1000 + SLACK_MS);
    assert.ok(after >= 900 && after < 1000 + SLACK_MS, `closed after ${after} ms`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an idle keep-alive connection is closed after keepAliveTimeoutSeconds', async () => {
  await withLimits({ keepAliveTimeoutSeconds: 1 }, async (r) => {
    const socket = await open(r.url);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const after = await closedAfter(socket, 1000 + SLACK_MS);
    assert.match(answer, /^HTTP\/1.1 200 /);
    assert.match(answer, /Keep-Alive: timeout=1/i);
    assert.ok(after < 1000 + SLACK_MS, `closed after ${after} ms`);
  });
});

test('connections over maxConnections are closed at once; below the cap the server answers again', async () => {
  await withLimits({ maxConnections: 3 }, async (r) => {
    const held = await Promise.all([open(r.url), open(r.url), open(r.url)]);
    // A started request keeps each connection busy.
    for (const s of held) s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const extra = await open(r.url);
    let got = '';
    extra.on('data', (d: Buffer) => (got += d.toString()));
    extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const after = await closedAfter(extra, SLACK_MS);
    assert.ok(after < SLACK_MS, 'the fourth connection is closed');
    assert.is(got, '', 'and answered nothing');
    for (const s of held) s.destroy();
    await eventually(
      'the held connections are gone',
      async () =>
        (await fetch(`${r.url}/healthz`)
          .then((res) => res.status)
          .catch(() => 0)) === 200,
      SLACK_MS,
    );
  });
});

test('attack: clients that never read a download are cut after sendIdleTimeoutSeconds, and their storage streams closed', async () => {
  await withLimits({ sendIdleTimeoutSeconds: 1 }, async (r) => {
    const owner = moduleResource({ name: 'big' });
    r.modules.put(owner);
    const data = randomBytes(32 * 1024 * 1024);
    r.versions.put(versionResource({ owner, version: '1.0.0', stored: await store(r.storage, moduleKey(owner, '1.0.0'), data) }));
    const url = `${r.url}/opendepot/modules/v1/${NS}/big/aws/1.0.0/archive.zip`;
    const clients = await Promise.all(Array.from({ length: 20 }, () => open(url)));
    for (const socket of clients) {
      socket.on('error', () => {});
      socket.write(`GET ${new URL(url).pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
      // Never read: once Node's and the kernel's buffers are full, nothing moves.
      socket.pause();
    }
    await eventually('every download has opened its storage stream', () => r.storage.openStreams === 20, SLACK_MS);
    const cut = await eventually('every storage stream is closed', () => r.storage.openStreams === 0, 1000 + SLACK_MS);
    assert.ok(cut >= 500, `cut after ${cut} ms, not before the idle timeout`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = r.logs.filter((l) => l.msg === 'request' && l.route === 'modules.archive');
    assert.is(lines.length, 20);
    assert.ok(
      lines.every((l) => l.aborted === true && (l.bytes as number) < data.length),
      JSON.stringify(lines[0]),
    );
    for (const socket of clients) socket.destroy();
  });
});

test.run();
