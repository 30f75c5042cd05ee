/**
 * The quickstart's real example provider: built into the tools cache (a second ask is the cached
 * executable), a real plugin, and packaged by the HashiCorp Releases stand-in as real releases
 * are: `terraform-provider-hello_v<version>` deflated at the zip's root, mode 0755, listed in the
 * signed SHA256SUMS.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSigningKey, helloProviderExecutables, hostPlatform, startHashicorpReleasesStandin } from '../src/index.ts';

const run = promisify(execFile);
const [os = '', arch = ''] = hostPlatform().split('_');

test('the host build is a real plugin, cached by version and platform', async () => {
  const first = await helloProviderExecutables('1.1.0', [{ os, arch }]);
  const path = first.get(`${os}_${arch}`)!;
  assert.match(path, /\/terraform-provider-hello-[0-9a-f]{16}\/1\.1\.0\/[a-z0-9]+_[a-z0-9]+\/terraform-provider-hello_v1\.1\.0$/);
  const started = Date.now();
  assert.is((await helloProviderExecutables('1.1.0', [{ os, arch }])).get(`${os}_${arch}`), path);
  assert.ok(Date.now() - started < 5_000, 'a cached executable is not built again');
  // Run by hand (no plugin handshake), a go-plugin provider says what it is and exits.
  const ran = await run(path, [], { timeout: 20_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
  assert.is(ran.code, 1);
  assert.match(ran.out, 'This binary is a plugin');
});

test('the HashiCorp Releases stand-in packages a given executable as a real release does, signed', async () => {
  const executable = (await helloProviderExecutables('1.1.0', [{ os, arch }])).get(`${os}_${arch}`)!;
  const signingKey = await createSigningKey({ name: 'Hello provider test publisher' });
  const releases = await startHashicorpReleasesStandin({ signingKey });
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-hello-'));
  try {
    await releases.addRelease('terraform-provider-hello', '1.1.0', {
      platforms: [
        { os, arch, executable },
        { os: 'windows', arch: 'amd64' },
      ],
    });
    const zipName = `terraform-provider-hello_1.1.0_${os}_${arch}.zip`;
    const zip = Buffer.from(await (await fetch(`${releases.url}/terraform-provider-hello/1.1.0/${zipName}`)).arrayBuffer());
    await writeFile(join(dir, zipName), zip);
    const listing = (await run('zipinfo', [join(dir, zipName)])).stdout;
    assert.match(listing, /^-rwxr-xr-x .* defN .* terraform-provider-hello_v1\.1\.0$/m);
    assert.is(listing.match(/^[-d]r/gm)?.length, 1, listing);
    const unpacked = (await run('unzip', ['-p', join(dir, zipName)], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 })).stdout;
    assert.ok(unpacked.equals(await readFile(executable)), 'the zip holds the executable byte for byte');
    const sha256 = createHash('sha256').update(zip).digest('hex');
    assert.is(releases.sha256Of('terraform-provider-hello', '1.1.0', os, arch), sha256);
    assert.match(releases.signedSums('terraform-provider-hello', '1.1.0').shasums.toString(), `${sha256}  ${zipName}\n`);
    // The other platform keeps the shell stand-in.
    const standin = `terraform-provider-hello_1.1.0_windows_amd64.zip`;
    await writeFile(join(dir, standin), Buffer.from(await (await fetch(`${releases.url}/terraform-provider-hello/1.1.0/${standin}`)).arrayBuffer()));
    assert.match((await run('unzip', ['-p', join(dir, standin)])).stdout, 'a test stand-in, not a real provider');
  } finally {
    await releases.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
