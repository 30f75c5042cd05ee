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
export async function signInThroughDex(page: Page, credentials: DexCredentials, returnTo: string, timeoutMs = 30_000): Promise<void> {
  const back = (url: URL) => url.href.startsWith(returnTo);
  await page.locator('input[name="login"]').waitFor({ timeout: timeoutMs });
  await page.fill('input[name="login"]', credentials.login);
  await page.fill('input[name="password"]', credentials.password);
  await page.click('button[type="submit"]');
  // Back at the client, or Dex's approval screen (when the Dex config shows it).
  // Dex's approval form carries `approval=approve` in a hidden field beside its submit button.
  const approve = page.locator('form:has(input[name="approval"][value="approve"]) [type="submit"]');
  const quiet = () => undefined;
  await Promise.race([page.waitForURL(back, { timeout: timeoutMs }).catch(quiet), approve.waitFor({ timeout: timeoutMs }).catch(quiet)]);
  if (back(new URL(page.url()))) return;
  if ((await approve.count()) === 0) throw new Error(`Dex did not sign ${credentials.login} in: the browser is at ${page.url()} (wrong password?)`);
  await approve.click();
  await page.waitForURL(back, { timeout: timeoutMs });
}
