/**
 * A real browser for the browse UI's tests: Debian's `chromium` (installed on first use by
 * tools/install-chromium.sh, as root), driven by `playwright-core` (the driver only, no bundled
 * browser download). Headless. The browser trusts exactly one certificate, the test
 * environment's, by its public key pin (`--ignore-certificate-errors-spki-list`): a page served
 * with any other certificate still fails, so the tests prove which server they talk to.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { DexCredentials } from './dex-login.ts';
import { runPathScript } from './script-output.ts';

// Test files drive the browser through these without a dependency of their own on the driver.
export type { Browser, BrowserContext, Page } from 'playwright-core';

const INSTALL_CHROMIUM = fileURLToPath(new URL('../tools/install-chromium.sh', import.meta.url));
/** Carries the browser's path from the test runner to the test processes. */
export const CHROMIUM_ENV = 'OPENDEPOT_CHROMIUM_BIN';

let chromiumPath: Promise<string> | undefined;

/** The path of Debian's chromium, installing it (apt-get, root) when missing. */
export function ensureChromium(): Promise<string> {
  chromiumPath ??= process.env[CHROMIUM_ENV]
    ? Promise.resolve(process.env[CHROMIUM_ENV])
    : runPathScript(INSTALL_CHROMIUM, [], (code) => `installing Debian's chromium failed (exit ${code}); run ${INSTALL_CHROMIUM} as root to see why`);
  return chromiumPath;
}

/** The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: what Chromium's SPKI list takes. */
export function spkiPin(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Options of {@link launchBrowser}. */
export interface LaunchBrowserOptions {
  /** PEM of the one server certificate the browser accepts without a trusted CA (the leaf, not the CA). */
  trustCertificatePem?: string;
}

/**
 * Launches headless Chromium. `--no-sandbox` is for the test bed only: the tests run as root,
 * where Chromium refuses to start its sandbox; never use it to browse anything but the test
 * servers.
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  const executablePath = await ensureChromium();
  const { chromium } = await import('playwright-core');
  const args = ['--no-sandbox', '--disable-dev-shm-usage'];
  if (options.trustCertificatePem) args.push(`--ignore-certificate-errors-spki-list=${spkiPin(options.trustCertificatePem)}`);
  return chromium.launch({ executablePath, headless: true, args });
}

/** Where test artefacts (screenshots) go: outside git, `${OPENDEPOT_ARTIFACTS_DIR:-~/.cache/opendepot/artifacts}/<sub>`. */
export async function artifactsDir(sub: string): Promise<string> {
  const dir = join(process.env.OPENDEPOT_ARTIFACTS_DIR ?? join(homedir(), '.cache', 'opendepot', 'artifacts'), sub);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Signs in through Dex's own login form in `page`, which must be on its way to Dex (e.g. after
 * clicking the UI's "Sign in"): fills in the password form, grants access when Dex asks, and
 * waits until Dex has sent the browser back to a URL starting with `returnTo` (the UI's
 * callback ends the sign-in there). For the browser sign-in tests of the browse UI.
 */
export async function signInThroughDex(page: Page, credentials: DexCredentials, returnTo: string): Promise<void> {
  await page.locator('input[name="login"]').waitFor({ timeout: 30_000 });
  await page.fill('input[name="login"]', credentials.login);
  await page.fill('input[name="password"]', credentials.password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
  const approve = page.locator('button[name="approval"][value="approve"]');
  if (!page.url().startsWith(returnTo) && (await approve.count()) > 0) await approve.click();
  await page.waitForURL((url) => url.href.startsWith(returnTo), { timeout: 30_000 });
}
