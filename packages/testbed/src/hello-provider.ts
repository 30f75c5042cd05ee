/**
 * The quickstart's example provider, real: packages/testbed/go/terraform-provider-hello (one data
 * source, `hello_greeting`), built from the Go module proxy by tools/build-hello-provider.sh into
 * the tools cache, keyed by a hash of its sources, the version and the platform.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runPathScript } from './script-output.ts';
import { toolsDir } from './tools.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('../tools/build-hello-provider.sh', import.meta.url));

/** This machine's platform in Go's words (`linux_amd64`). */
export function hostPlatform(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${process.platform === 'win32' ? 'windows' : process.platform}_${arch}`;
}

/**
 * The executables of terraform-provider-hello `version` for `platforms`, as `<os>_<arch>` → path,
 * building what the cache lacks (the host's platform first: it is the one a local apply runs).
 */
export async function helloProviderExecutables(version: string, platforms: readonly { os: string; arch: string }[]): Promise<Map<string, string>> {
  const host = hostPlatform();
  const names = platforms.map((p) => `${p.os}_${p.arch}`);
  const ordered = [...names.filter((n) => n === host), ...names.filter((n) => n !== host)];
  const paths = new Map<string, string>();
  for (const platform of ordered) {
    const path = await runPathScript(
      BUILD_SCRIPT,
      [version, platform],
      (code) => `building terraform-provider-hello ${version} for ${platform} failed (exit ${code}); see ${join(toolsDir(), 'logs', 'terraform-provider-hello.log')}`,
    );
    paths.set(platform, path);
  }
  return new Map(names.map((n) => [n, paths.get(n)!]));
}
