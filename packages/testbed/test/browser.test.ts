/**
 * The test bed's browser: Debian's chromium through playwright-core. It accepts the one server
 * certificate it was given by key pin and refuses any other untrusted one, and
 * `signInThroughDex` gets through a real Dex's login form (and its approval screen) back to the
 * client with an authorization code.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestCertificates, DEX_DEMO_PASSWORD, freePort, launchBrowser, signInThroughDex, startDex, type Browser, type Dex } from '../src/index.ts';

let browser: Browser;
const servers: Server[] = [];
let dex: Dex | undefined;

async function serve(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const pinned = await createTestCertificates();
const other = await createTestCertificates();

test.before(async () => {
  browser = await launchBrowser({ trustCertificatePem: pinned.certPem });
});

test.after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  await dex?.stop();
});

test('the pinned certificate is accepted; another one from an untrusted CA is refused', async () => {
  const hello = (name: string) => (_req: unknown, res: { end(body: string): void }) => res.end(name);
  const good = await serve(createHttpsServer({ cert: pinned.certPem, key: pinned.keyPem }, hello('pinned')));
  const bad = await serve(createHttpsServer({ cert: other.certPem, key: other.keyPem }, hello('other')));
  const page = await browser.newPage();
  await page.goto(`https://127.0.0.1:${good}/`);
  assert.is(await page.textContent('body'), 'pinned');
  const refused = await page.goto(`https://127.0.0.1:${bad}/`).then(
    () => 'loaded',
    (err: Error) => err.message,
  );
  assert.match(refused, /ERR_CERT/);
  await page.close();
});

test("signInThroughDex fills in Dex's form, approves, and comes back to the client with a code", async () => {
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  const received: URL[] = [];
  await new Promise<void>((resolve) => {
    const server = createHttpServer((req, res) => {
      received.push(new URL(req.url ?? '/', callback));
      res.end('signed in');
    });
    servers.push(server);
    server.listen(port, '127.0.0.1', resolve);
  });
  dex = await startDex({ clients: [{ id: 'browse-ui', public: true, redirectURIs: [callback] }], approvalScreen: true });
  const authz = new URL(dex.endpoints.authz);
  for (const [k, v] of Object.entries({ client_id: 'browse-ui', redirect_uri: callback, response_type: 'code', scope: 'openid email groups', state: 'st-1' })) authz.searchParams.set(k, v);
  const page = await browser.newPage();
  await page.goto(authz.href);
  await signInThroughDex(page, { login: 'alice@example.com', password: DEX_DEMO_PASSWORD }, callback);
  assert.is(await page.textContent('body'), 'signed in');
  const back = received.find((u) => u.pathname === '/callback');
  assert.ok(back?.searchParams.get('code'), `a code came back: ${back?.href}`);
  assert.is(back?.searchParams.get('state'), 'st-1');

  // A wrong password leaves the browser at Dex: the helper says so instead of waiting forever.
  await page.goto(authz.href);
  const wrong = await signInThroughDex(page, { login: 'alice@example.com', password: 'not-it' }, callback, 5_000).then(
    () => 'signed in',
    (err: Error) => err.message,
  );
  assert.match(wrong, 'Dex did not sign alice@example.com in');
  await page.close();
});

test.run();
