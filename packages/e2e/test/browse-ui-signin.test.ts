/**
 * Browser sign-in to the browse UI in a real Chromium, all real: anonymous access off, the server
 * signing browsers in through a real Dex (authorization code + PKCE, a confidential UI client), and
 * the announcement's GroupBinding. Signed out, the UI asks to sign in; signed in as alice (in
 * aws-platform-team) the list shows only the terraform-aws-* module the binding grants, and the
 * page of the terraform-gcp-* module answers 404 exactly like a module that does not exist.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitRepo, DEX_DEMO_PASSWORD, freePort, launchBrowser, signInThroughDex, startDex, type Browser, type Dex, type Page } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { moduleFiles, oneVersionModule, ready, type Obj } from './support/resources.ts';

const CLI_CLIENT = 'opendepot-cli';
const UI_CLIENT = 'opendepot-ui';
const UI_SECRET = `ui-${randomBytes(12).toString('hex')}`;
const AWS_MODULE = 'terraform-aws-key-pair';
const GCP_MODULE = 'terraform-gcp-network';

let dex: Dex;
let env: RegistryEnv;
let browser: Browser;
let page: Page;
let base: string;
let secrets: string;

test.before(async () => {
  // The callback URL is registered with Dex before the server exists: its port is chosen first.
  const port = await freePort();
  secrets = await mkdtemp(join(tmpdir(), 'opendepot-ui-signin-'));
  const secretFile = join(secrets, 'ui-client-secret');
  await writeFile(secretFile, UI_SECRET, { mode: 0o600 });
  base = `https://127.0.0.1:${port}`;
  dex = await startDex({
    users: [{ email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team'] }],
    clients: [
      { id: CLI_CLIENT, public: true },
      { id: UI_CLIENT, secret: UI_SECRET, redirectURIs: [`${base}/ui/callback`] },
    ],
  });
  env = await startRegistryEnv({
    config: {
      plugins: [
        { package: '@opendepot/plugin-fs' },
        {
          package: '@opendepot/plugin-dex',
          kind: 'auth',
          config: { issuerUrl: dex.issuer, clientId: CLI_CLIENT, browserClientId: UI_CLIENT, browserClientSecretFile: secretFile },
        },
      ],
      auth: { anonymous: { enabled: false } },
    },
    serverConfig: () => ({ port }),
  });
  const aws = await createGitRepo(join(env.dir, 'aws-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'aws') } });
  const gcp = await createGitRepo(join(env.dir, 'gcp-repo'), { tags: { 'v1.0.0': moduleFiles('1.0.0', 'gcp') } });
  await env.apply(oneVersionModule(AWS_MODULE, 'aws', aws.url), oneVersionModule(GCP_MODULE, 'google', gcp.url), {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'GroupBinding',
    metadata: { name: '01-aws-platform-team' },
    spec: { expression: '"aws-platform-team" in groups', moduleResources: ['terraform-aws-*'], providerResources: ['aws'] },
  });
  for (const name of [AWS_MODULE, GCP_MODULE]) await eventually(`module ${name} Ready`, async () => ready(await env.get<Obj>('module', name)), 120_000);
  browser = await launchBrowser({ trustCertificatePem: await readFile(join(env.dir, 'cert.pem'), 'utf8') });
  page = await (await browser.newContext()).newPage();
});

test.after(async () => {
  await browser?.close();
  await env?.stop();
  await dex?.stop();
  if (secrets) await rm(secrets, { recursive: true, force: true });
});

test('signed out, the UI asks to sign in; Sign in goes through Dex and comes back signed in', async () => {
  const answer = await page.goto(`${base}/ui/?namespace=${env.namespace}`);
  assert.is(answer?.status(), 401);
  assert.match((await page.textContent('main')) ?? '', /needs you to sign in/);
  await page.click('main a.button');
  await signInThroughDex(page, { login: 'alice@example.com', password: DEX_DEMO_PASSWORD }, `${base}/ui/`);
  await page.waitForURL(`${base}/ui/?namespace=${env.namespace}`);
  // The browser's session cookie is alice's.
  const shown = await page.textContent('.account .who');
  const who = (await (await page.goto(`${base}/opendepot/api/v1/whoami`))!.json()) as { subject: string; groups: string[]; via: string };
  assert.equal({ groups: who.groups, via: who.via }, { groups: ['aws-platform-team'], via: 'session' });
  assert.is(shown, who.subject);
  await page.goBack();
  assert.is(await page.locator('.account a', { hasText: 'Sign out' }).count(), 1);
});

test("signed in, the list shows only what alice's GroupBinding grants; the other module's page is the same 404 as a missing one", async () => {
  await page.goto(`${base}/ui/?namespace=${env.namespace}`);
  const names = await page.locator('table.catalog tbody tr td:nth-child(2) a').allTextContents();
  assert.equal(names, [AWS_MODULE]);
  const granted = await page.goto(`${base}/ui/modules/${env.namespace}/${AWS_MODULE}/aws`);
  assert.is(granted?.status(), 200);
  const refused = await page.goto(`${base}/ui/modules/${env.namespace}/${GCP_MODULE}/google`);
  const refusedText = await page.textContent('main');
  const missing = await page.goto(`${base}/ui/modules/${env.namespace}/terraform-gcp-nothing/google`);
  assert.equal([refused?.status(), missing?.status()], [404, 404]);
  assert.is(refusedText, await page.textContent('main'), 'the same page whether the module exists or not');
});

test('Sign out ends the session: the UI asks to sign in again', async () => {
  await page.goto(`${base}/ui/`);
  await Promise.all([page.waitForURL(`${base}/ui/`), page.click('.account a')]);
  const answer = await page.goto(`${base}/ui/`);
  assert.is(answer?.status(), 401);
});

test.run();
