/**
 * The browse UI in a real browser (Debian's chromium, driven by playwright-core) against the real
 * registry: the list page, the search box, the module page with its README, inputs and outputs,
 * the usage snippet's Copy button (the clipboard's text is what `tofu init` gets), and the hostile
 * README rendered inert (no dialog, no script ran, no javascript: navigation, no remote image
 * fetched, no console error: a CSP violation would show there). Screenshots of the list and the
 * module page are written as artefacts outside git.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactsDir, launchBrowser, type Browser, type BrowserContext, type Page } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BROWSE_MODULE, DECLARED, TRACKER_HOST, startBrowseEnv } from './support/browse-fixture.ts';
import type { RegistryEnv } from './support/registry-env.ts';

let env: RegistryEnv;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shots: string;
/** What the page did that a test may object to. */
const seen = { dialogs: [] as string[], consoleErrors: [] as string[], pageErrors: [] as string[], requests: [] as string[] };

const moduleUrl = () => `${base}/ui/modules/${env.namespace}/${BROWSE_MODULE.name}/${BROWSE_MODULE.provider}`;

async function screenshot(name: string): Promise<void> {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path });
  console.log(`[artefact] ${path}`);
}

test.before(async () => {
  env = await startBrowseEnv();
  base = env.server.listening.url;
  // The browser accepts the env's server certificate by its key pin, and no other untrusted one.
  browser = await launchBrowser({ trustCertificatePem: await readFile(join(env.dir, 'cert.pem'), 'utf8') });
  context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
  page.on('dialog', (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.pageErrors.push(e.message));
  page.on('request', (r) => seen.requests.push(r.url()));
  shots = await artifactsDir('ui');
});

test.after(async () => {
  await browser?.close();
  await env?.stop();
});

test('the list page shows the module, and typing part of its name in the search box finds it', async () => {
  // Only this env's rows count: the server also lists what test files running beside this one hold.
  const ours = page.locator(`table.catalog a[href="/ui/modules/${env.namespace}/${BROWSE_MODULE.name}/${BROWSE_MODULE.provider}"]`);
  const answer = await page.goto(`${base}/ui/?namespace=${env.namespace}`);
  assert.is(answer?.status(), 200);
  assert.is(await ours.count(), 1);
  await screenshot('list');
  await page.goto(`${base}/ui/`);
  await page.fill('input[name="q"]', 'aws-net');
  await Promise.all([page.waitForURL(/\/ui\/\?q=aws-net/), page.press('input[name="q"]', 'Enter')]);
  assert.is(await ours.count(), 1);
  for (const name of await page.locator('table.catalog tbody tr td:nth-child(2) a').allTextContents()) assert.match(name, 'aws-net');
  await page.fill('input[name="q"]', 'gcp');
  await Promise.all([page.waitForURL(/\/ui\/\?q=gcp/), page.press('input[name="q"]', 'Enter')]);
  assert.is(await ours.count(), 0, 'a search for another name does not list it');
  await page.goBack();
  await Promise.all([page.waitForURL(moduleUrl()), ours.click()]);
});

test('the module page shows the rendered README and each input and output of its .tf files', async () => {
  assert.is(page.url(), moduleUrl());
  assert.is(await page.textContent('article.markdown strong'), 'VPC');
  assert.match((await page.textContent('article.markdown')) ?? '', 'Builds a VPC with private subnets.');
  const column = (table: string) => page.locator(`table.${table} tbody tr td:first-child code`).allTextContents();
  assert.equal(await column('inputs'), [...DECLARED.inputs]);
  assert.equal(await column('outputs'), [...DECLARED.outputs]);
  await screenshot('module');
});

test('the Copy button puts the usage snippet on the clipboard, and tofu init accepts exactly that text', async () => {
  await page.click('button[data-copy="usage"]');
  await page.locator('button[data-copy="usage"]', { hasText: 'Copied' }).waitFor({ timeout: 5_000 });
  // Evaluated in the page (a string: the tests are not type-checked against the DOM).
  const pasted = String(await page.evaluate('navigator.clipboard.readText()'));
  assert.is(pasted, await page.textContent('#usage'));
  assert.match(pasted, `source  = "`);
  const run = await env.client('tofu', pasted);
  assert.is(run.code, 0, run.output);
  assert.match(run.output, BROWSE_MODULE.name);
});

test('the hostile README is inert: no dialog, no script ran, no javascript: navigation, no remote image fetched, no console error', async () => {
  await page.reload();
  // The script and the onerror handler would have set it; the link would have opened a dialog.
  assert.is(await page.evaluate('typeof window.pwned'), 'undefined');
  assert.match((await page.textContent('article.markdown')) ?? '', '<script>window.pwned = true</script>', 'the script shows as text');
  assert.is(await page.locator('article.markdown a[href^="javascript:" i]').count(), 0);
  await page.locator('article.markdown', { hasText: 'click me' }).getByText('click me').click();
  await page.waitForTimeout(300);
  assert.is(page.url(), moduleUrl(), 'clicking the would-be link went nowhere');
  assert.equal(seen.dialogs, []);
  assert.equal(
    seen.requests.filter((u) => u.includes(TRACKER_HOST)),
    [],
  );
  assert.equal(
    seen.requests.filter((u) => !u.startsWith(base)),
    [],
    'every request the pages made went to the registry',
  );
  assert.equal(seen.pageErrors, []);
  assert.equal(seen.consoleErrors, []);
});

test.run();
