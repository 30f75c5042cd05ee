/**
 * providers.v1 over real HTTP: versions, download metadata, SHA256SUMS built from status, its
 * detached binary signature (verified with openpgp against the served key), the signature cache,
 * and the answers without a signing key. Informers are in-memory doubles; storage is on disk.
 */
import { writeFile } from 'node:fs/promises';
import { createSigningKey } from '@opendepot/testbed';
import { createMessage, readKey, readSignature, verify } from 'openpgp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SIGNING_KEY_MESSAGE, signingKeyOf, type SigningKey } from '../src/index.ts';
import { condition, moduleResource, NS, startTestRegistry, type TestRegistry } from './support/fixtures.ts';
import { rawRequest } from './support/http.ts';
import { providerKey, providerPackage, providerVersionResource, storeProvider, type ProviderPackage } from './support/providers.ts';

let key: SigningKey;
const packages = new Map<string, ProviderPackage>();

test.before(async () => {
  key = await signingKeyOf((await createSigningKey({ name: 'OpenDepot Server Test' })).privateKeyArmored);
  for (const version of ['1.0.0', '1.1.0']) {
    for (const [os, arch] of [
      ['linux', 'amd64'],
      ['darwin', 'arm64'],
      ['linux', 'arm64'],
    ] as const) {
      packages.set(`${version}/${os}_${arch}`, await providerPackage('hello', version, os, arch));
    }
  }
});

function pkg(version: string, platform: string): ProviderPackage {
  return packages.get(`${version}/${platform}`)!;
}

async function withRegistry(run: (r: TestRegistry) => Promise<void>, options: { signingKey?: SigningKey | null; externalUrl?: string; trustedProxies?: string[] } = {}): Promise<void> {
  const signingKey = options.signingKey === null ? undefined : (options.signingKey ?? key);
  const r = await startTestRegistry({
    ...(signingKey && { signingKey }),
    ...(options.externalUrl && { externalUrl: options.externalUrl }),
    ...(options.trustedProxies && { trustedProxies: options.trustedProxies }),
  });
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

/** Stores the package and puts its Ready Version. */
async function putReady(r: TestRegistry, p: ProviderPackage, options: { namespace?: string; owner?: string } = {}): Promise<void> {
  const namespace = options.namespace ?? NS;
  const stored = await storeProvider(r.storage, namespace, p, options.owner);
  r.versions.put(providerVersionResource({ type: p.type, version: p.version, os: p.os, arch: p.arch, namespace, stored, ...(options.owner && { owner: options.owner }) }));
}

const base = (r: TestRegistry) => `${r.url}/opendepot/providers/v1/${NS}/hello`;

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { errors: string[] }).errors[0]!;
}

async function signatureVerifies(content: Uint8Array, signature: Uint8Array, armoredKey: string): Promise<boolean> {
  const result = await verify({
    message: await createMessage({ binary: content }),
    signature: await readSignature({ binarySignature: signature }),
    verificationKeys: await readKey({ armoredKey }),
  });
  return result.signatures[0]!.verified.then(
    () => true,
    () => false,
  );
}

test('versions lists each version with a Ready platform, its protocols and only its Ready platforms', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('1.0.0', 'linux_amd64'));
    await putReady(r, pkg('1.0.0', 'darwin_arm64'));
    await putReady(r, pkg('1.1.0', 'linux_amd64'));
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'linux', arch: 'arm64' })); // still fetching
    r.versions.put(providerVersionResource({ type: 'hello', version: '2.0.0', os: 'linux', arch: 'amd64' })); // nothing Ready yet
    // A module Version in the same namespace is not a provider.
    r.modules.put(moduleResource({ name: 'hello' }));
    const res = await fetch(`${base(r)}/versions`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await res.json(), {
      versions: [
        {
          version: '1.0.0',
          protocols: ['5.0'],
          platforms: [
            { os: 'darwin', arch: 'arm64' },
            { os: 'linux', arch: 'amd64' },
          ],
        },
        { version: '1.1.0', protocols: ['5.0'], platforms: [{ os: 'linux', arch: 'amd64' }] },
      ],
    });
    // Addresses match without case, as clients normalise them.
    assert.is((await fetch(`${r.url}/opendepot/providers/v1/${NS.toUpperCase()}/HELLO/versions`)).status, 200);
  });
});

test('an unknown provider is a 404 naming it; a provider with nothing Ready lists no versions', async () => {
  await withRegistry(async (r) => {
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os: 'linux', arch: 'amd64' }));
    const unknown = await fetch(`${r.url}/opendepot/providers/v1/${NS}/nope/versions`);
    assert.is(unknown.status, 404);
    assert.match(await errorOf(unknown), `provider ${NS}/nope not found`);
    assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { versions: [] });
  });
});

test('download answers the exact metadata: echoes os/arch, the shasum, absolute URLs and the public key', async () => {
  await withRegistry(async (r) => {
    const p = pkg('1.0.0', 'linux_amd64');
    await putReady(r, p);
    await putReady(r, pkg('1.0.0', 'darwin_arm64'));
    const url = `${base(r)}/1.0.0/download/linux/amd64`;
    const res = await fetch(url);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = await json(res);
    const expectedSums = [pkg('1.0.0', 'darwin_arm64'), p].map((x) => `${x.checksum}  ${x.filename}\n`).join('');
    const digest = (await import('node:crypto')).createHash('sha256').update(expectedSums).digest('hex');
    const dir = `${r.url}/opendepot/providers/v1/${NS}/hello/1.0.0/`;
    assert.equal(body, {
      protocols: ['5.0'],
      os: 'linux',
      arch: 'amd64',
      filename: p.filename,
      download_url: `${dir}${p.filename}`,
      shasums_url: `${dir}SHA256SUMS?digest=${digest}`,
      shasums_signature_url: `${dir}SHA256SUMS.sig?digest=${digest}`,
      shasum: p.checksum,
      signing_keys: {
        gpg_public_keys: [{ key_id: key.keyId, ascii_armor: key.armoredPublicKey, trust_signature: '', source: 'OpenDepot', source_url: `${r.url}/opendepot/providers/v1/signing-key.asc` }],
      },
      // OpenTofu's RFC 20251027: every Ready platform's hashes and zip size, whichever was asked for.
      packages: {
        darwin_arm64: { hashes: [pkg('1.0.0', 'darwin_arm64').h1, `zh:${pkg('1.0.0', 'darwin_arm64').checksum}`], package_size: pkg('1.0.0', 'darwin_arm64').data.length },
        linux_amd64: { hashes: [p.h1, `zh:${p.checksum}`], package_size: p.data.length },
      },
    });
    assert.match(key.keyId, /^[0-9A-F]{16}$/);
    // Each URL serves as given.
    const zip = await fetch(body.download_url as string);
    assert.is(zip.status, 200);
    assert.ok(Buffer.from(await zip.arrayBuffer()).equals(p.data));
    const sums = await fetch(body.shasums_url as string);
    assert.is(new URL(sums.url).pathname, `/opendepot/providers/v1/${NS}/hello/1.0.0/SHA256SUMS`);
    assert.is(await sums.text(), expectedSums);
    const sig = await fetch(body.shasums_signature_url as string);
    assert.is(sig.status, 200);
    assert.ok(
      await signatureVerifies(
        Buffer.from(expectedSums),
        new Uint8Array(await sig.arrayBuffer()),
        (body.signing_keys as { gpg_public_keys: { ascii_armor: string }[] }).gpg_public_keys[0]!.ascii_armor,
      ),
    );
    // The public key is also served on its own, where source_url points.
    const asc = await fetch((body.signing_keys as { gpg_public_keys: { source_url: string }[] }).gpg_public_keys[0]!.source_url);
    assert.is(await asc.text(), key.armoredPublicKey);
  });
});

test('the conventional /v1/providers/ path answers as the discovered one: versions, download, package, signing key', async () => {
  await withRegistry(async (r) => {
    const p = pkg('1.0.0', 'linux_amd64');
    await putReady(r, p);
    const conventional = `${r.url}/v1/providers/${NS}/hello`;
    const [discovered, aliased] = await Promise.all([fetch(`${base(r)}/versions`), fetch(`${conventional}/versions`)]);
    assert.is(aliased.status, 200);
    assert.equal(await json(aliased), await json(discovered));
    const download = await json(await fetch(`${conventional}/1.0.0/download/linux/amd64`));
    assert.is(download.shasum, p.checksum);
    const zip = await fetch(`${conventional}/1.0.0/${p.filename}`);
    assert.ok(Buffer.from(await zip.arrayBuffer()).equals(p.data));
    assert.is(await (await fetch(`${r.url}/v1/providers/signing-key.asc`)).text(), key.armoredPublicKey);
  });
});

test('packages (OpenTofu >= 1.12) lists only servable platforms, the same for every platform asked; a malformed h1: is left out, a missing one leaves zh: alone', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('1.1.0', 'linux_amd64');
    const darwin = pkg('1.1.0', 'darwin_arm64');
    const arm = pkg('1.1.0', 'linux_arm64');
    await putReady(r, linux);
    // darwin: recorded without h1:; linux_arm64: an h1: that is not one (status is writable by others).
    const darwinStored = await storeProvider(r.storage, NS, darwin);
    delete darwinStored.h1;
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'darwin', arch: 'arm64', stored: darwinStored }));
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'linux', arch: 'arm64', stored: { ...(await storeProvider(r.storage, NS, arm)), h1: 'h1:not a hash' } }));
    // Not servable: still fetching, or stalled. Neither may appear.
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'windows', arch: 'amd64' }));
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'freebsd', arch: 'amd64', conditions: [condition('Stalled', 'True', 'SignatureInvalid', 'bad')] }));
    const expected = {
      darwin_arm64: { hashes: [`zh:${darwin.checksum}`], package_size: darwin.data.length },
      linux_amd64: { hashes: [linux.h1, `zh:${linux.checksum}`], package_size: linux.data.length },
      linux_arm64: { hashes: [`zh:${arm.checksum}`], package_size: arm.data.length },
    };
    for (const platform of ['linux/amd64', 'darwin/arm64', 'linux/arm64']) {
      const body = await json(await fetch(`${base(r)}/1.1.0/download/${platform}`));
      assert.equal(body.packages, expected, platform);
      // tofu requires the asked platform's zh: to equal shasum.
      assert.ok((expected as Record<string, { hashes: string[] }>)[platform.replace('/', '_')]!.hashes.includes(`zh:${body.shasum as string}`), platform);
    }
    assert.ok(
      r.logs.some((l) => String(l.msg).includes('status.h1 is not an h1: hash')),
      'the malformed h1: is logged',
    );
  });
});

test('absolute URLs: from the request Host; X-Forwarded-* only from trusted proxies; server.externalUrl above both', async () => {
  const forwarded = { 'X-Forwarded-Host': 'evil-forwarded.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/evil-prefix' };
  const downloadAnswer = async (r: TestRegistry, headers: Record<string, string>) => {
    const res = await rawRequest(`${base(r)}/1.0.0/download/linux/amd64`, { headers });
    assert.is(res.status, 200, res.body.toString());
    return JSON.parse(res.body.toString()) as Record<string, unknown> & { signing_keys: { gpg_public_keys: { source_url: string }[] } };
  };
  const urlsOf = (body: Awaited<ReturnType<typeof downloadAnswer>>) => [body.download_url, body.shasums_url, body.shasums_signature_url, body.signing_keys.gpg_public_keys[0]!.source_url] as string[];
  const dir = (origin: string) => `${origin}/opendepot/providers/v1/opendepot-system/hello/1.0.0/`;

  await withRegistry(async (r) => {
    await putReady(r, pkg('1.0.0', 'linux_amd64'));
    // Untrusted peer: its Host is echoed back to it, its X-Forwarded-* are not believed.
    const [download, sums, sig, key] = urlsOf(await downloadAnswer(r, { Host: 'registry.test:8443', ...forwarded }));
    assert.is(download, `${dir('http://registry.test:8443')}terraform-provider-hello_1.0.0_linux_amd64.zip`);
    assert.match(sums!, new RegExp(`^${dir('http://registry.test:8443')}SHA256SUMS\\?digest=[0-9a-f]{64}$`));
    assert.match(sig!, new RegExp(`^${dir('http://registry.test:8443')}SHA256SUMS\\.sig\\?digest=[0-9a-f]{64}$`));
    assert.is(key, 'http://registry.test:8443/opendepot/providers/v1/signing-key.asc');
    // A Host that is not a host name is never written into an answer: the address it reached is.
    const odd = urlsOf(await downloadAnswer(r, { Host: 'evil.example/<script>' }));
    for (const url of odd) assert.ok(url.startsWith(`${r.url}/opendepot/providers/v1/`), url);
    // Every URL handed out works as given.
    const fetched = await fetch(download!.replace('http://registry.test:8443', r.url));
    assert.is(fetched.status, 200);
  });
  await withRegistry(
    async (r) => {
      await putReady(r, pkg('1.0.0', 'linux_amd64'));
      const [download] = urlsOf(await downloadAnswer(r, { Host: 'proxy.internal', ...forwarded }));
      assert.is(download, `${dir('https://evil-forwarded.example/evil-prefix')}terraform-provider-hello_1.0.0_linux_amd64.zip`, 'a trusted proxy is believed');
      const [dotted] = urlsOf(await downloadAnswer(r, { Host: 'proxy.internal', 'X-Forwarded-Proto': 'gopher', 'X-Forwarded-Prefix': '/a/../../etc' }));
      assert.is(dotted, `${dir('http://proxy.internal')}terraform-provider-hello_1.0.0_linux_amd64.zip`, 'an unknown scheme and a dot-segment prefix are ignored');
    },
    { trustedProxies: ['127.0.0.0/8'] },
  );
  await withRegistry(
    async (r) => {
      await putReady(r, pkg('1.0.0', 'linux_amd64'));
      const urls = urlsOf(await downloadAnswer(r, { Host: 'evil.example:666', ...forwarded }));
      for (const url of urls) assert.ok(url.startsWith('https://registry.example.com/prefix/opendepot/providers/v1/'), url);
    },
    { externalUrl: 'https://registry.example.com/prefix/', trustedProxies: ['127.0.0.0/8'] },
  );
});

test('download: an unknown version or platform is a 404, a platform still syncing a 503, a stalled one a 409', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('1.0.0', 'linux_amd64'));
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.0.0', os: 'linux', arch: 'arm64' }));
    r.versions.put(
      providerVersionResource({
        type: 'hello',
        version: '1.0.0',
        os: 'darwin',
        arch: 'arm64',
        conditions: [condition('Ready', 'False', 'SignatureInvalid'), condition('Stalled', 'True', 'SignatureInvalid', 'the upstream signature does not verify')],
      }),
    );
    const version = await fetch(`${base(r)}/9.9.9/download/linux/amd64`);
    assert.is(version.status, 404);
    assert.match(await errorOf(version), `provider ${NS}/hello has no version 9.9.9; available versions: 1.0.0`);
    const platform = await fetch(`${base(r)}/1.0.0/download/windows/amd64`);
    assert.is(platform.status, 404);
    assert.match(await errorOf(platform), 'has no package for windows_amd64; available platforms: linux_amd64');
    const syncing = await fetch(`${base(r)}/1.0.0/download/linux/arm64`);
    assert.is(syncing.status, 503);
    assert.is(syncing.headers.get('retry-after'), '10');
    assert.match(await errorOf(syncing), 'for linux_arm64 is not available yet: it is still being synced (reason: ');
    const stalled = await fetch(`${base(r)}/1.0.0/download/darwin/arm64`);
    assert.is(stalled.status, 409);
    const stalledError = await errorOf(stalled);
    assert.match(stalledError, 'it is stalled (reason: SignatureInvalid)');
    assert.not.match(stalledError, 'the upstream signature does not verify', 'the condition message is for the log only');
  });
});

test('SHA256SUMS is built from the recorded checksums of Ready platforms: sorted, two spaces, no blank line, never read from storage', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('1.1.0', 'linux_amd64');
    const darwin = pkg('1.1.0', 'darwin_arm64');
    await putReady(r, linux);
    await putReady(r, darwin);
    r.versions.put(providerVersionResource({ type: 'hello', version: '1.1.0', os: 'linux', arch: 'arm64' })); // not Ready: not listed
    // Swap a stored zip behind the server's back: SHA256SUMS still says what was recorded.
    await writeFile(r.storage.path(providerKey(NS, linux)), Buffer.from('swapped'));
    const readsBefore = r.storage.reads.length;
    const res = await fetch(`${base(r)}/1.1.0/SHA256SUMS`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.is(text, `${darwin.checksum}  ${darwin.filename}\n${linux.checksum}  ${linux.filename}\n`);
    assert.not.match(text, '\n\n');
    assert.is(r.storage.reads.length, readsBefore, 'storage was not read');
    assert.is((await fetch(`${base(r)}/9.9.9/SHA256SUMS`)).status, 404);
  });
});

test('SHA256SUMS.sig is a binary detached signature of exactly those bytes, computed once per content and cached', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('1.0.0', 'linux_amd64'));
    const sums = Buffer.from(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS`)).arrayBuffer());
    const first = new Uint8Array(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS.sig`)).arrayBuffer());
    assert.is.not(first[0], '-'.charCodeAt(0), 'binary, not armored');
    assert.ok(await signatureVerifies(sums, first, key.armoredPublicKey));
    // Signatures carry their creation time in seconds: a recomputed one would differ after 1 s.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = new Uint8Array(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS.sig`)).arrayBuffer());
    assert.equal(again, first, 'the cached signature is served again');
    const counter = async () => Number(/opendepot_server_shasums_signatures_total (\d+)/.exec(await (await fetch(`${r.metricsUrl}/metrics`)).text())?.[1]);
    assert.is(await counter(), 1);
    // Another platform turning Ready changes the content: a new signature over the new content.
    await putReady(r, pkg('1.0.0', 'darwin_arm64'));
    const newSums = Buffer.from(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS`)).arrayBuffer());
    assert.is.not(newSums.toString(), sums.toString());
    const newSig = new Uint8Array(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS.sig`)).arrayBuffer());
    assert.ok(await signatureVerifies(newSums, newSig, key.armoredPublicKey));
    assert.not.ok(await signatureVerifies(sums, newSig, key.armoredPublicKey));
    assert.is(await counter(), 2);
  });
});

test('the SHA256SUMS and signature a download answer names stay a matching pair when a platform turns Ready in between', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('1.0.0', 'linux_amd64');
    await putReady(r, linux);
    const url = `${base(r)}/1.0.0/download/linux/amd64`;
    const meta = await json(await fetch(url));
    await putReady(r, pkg('1.0.0', 'darwin_arm64'));
    const sums = await (await fetch(new URL(meta.shasums_url as string, url))).text();
    const sig = new Uint8Array(await (await fetch(new URL(meta.shasums_signature_url as string, url))).arrayBuffer());
    assert.is(sums, `${linux.checksum}  ${linux.filename}\n`, 'the document the answer described');
    assert.ok(await signatureVerifies(Buffer.from(sums), sig, key.armoredPublicKey));
    // Without ?digest= (or with an unknown one) it is the current document.
    assert.is((await (await fetch(`${base(r)}/1.0.0/SHA256SUMS`)).text()).split('\n').length, 3);
    assert.is((await (await fetch(`${base(r)}/1.0.0/SHA256SUMS?digest=${'0'.repeat(64)}`)).text()).split('\n').length, 3);
  });
});

test('without a signing key: download, SHA256SUMS and .sig answer 500 saying so; versions and packages still work', async () => {
  await withRegistry(
    async (r) => {
      const p = pkg('1.0.0', 'linux_amd64');
      await putReady(r, p);
      for (const path of ['1.0.0/download/linux/amd64', '1.0.0/SHA256SUMS', '1.0.0/SHA256SUMS.sig']) {
        const res = await fetch(`${base(r)}/${path}`);
        assert.is(res.status, 500, path);
        const message = await errorOf(res);
        assert.is(message, NO_SIGNING_KEY_MESSAGE);
        assert.match(message, /^no signing key configured: set server\.gpg/);
      }
      assert.is((await fetch(`${base(r)}/versions`)).status, 200);
      const zip = await fetch(`${base(r)}/1.0.0/${p.filename}`);
      assert.is(zip.status, 200);
      await zip.arrayBuffer();
      assert.is((await fetch(`${r.url}/opendepot/providers/v1/signing-key.asc`)).status, 404);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.is(r.logs.filter((l) => String(l.msg).includes('no signing key is configured')).length, 1, 'logged once');
    },
    { signingKey: null },
  );
});

test('the served key is the configured key; a key that cannot sign the document fails the signature route, not silently', async () => {
  const broken: SigningKey = { ...key, sign: async () => Promise.reject(new Error('token device unplugged')) };
  await withRegistry(
    async (r) => {
      await putReady(r, pkg('1.0.0', 'linux_amd64'));
      const res = await fetch(`${base(r)}/1.0.0/SHA256SUMS.sig`);
      assert.is(res.status, 500);
      assert.match(await errorOf(res), 'could not sign');
      assert.ok(r.logs.some((l) => l.msg === 'signing SHA256SUMS failed' && String(l.err).includes('token device unplugged')));
    },
    { signingKey: broken },
  );
});

test('two Providers in one namespace claiming one type: the first by name is served, with a warning', async () => {
  await withRegistry(async (r) => {
    await putReady(r, pkg('1.0.0', 'linux_amd64'), { owner: 'hello-b' });
    await putReady(r, pkg('1.1.0', 'linux_amd64'), { owner: 'hello-a' });
    assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { versions: [{ version: '1.1.0', protocols: ['5.0'], platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    assert.ok(r.logs.some((l) => String(l.msg).includes('several Providers claim one provider address')));
  });
});

test('informer events update the answers: a deleted Version disappears from versions and SHA256SUMS', async () => {
  await withRegistry(async (r) => {
    const linux = pkg('1.0.0', 'linux_amd64');
    await putReady(r, linux);
    await putReady(r, pkg('1.0.0', 'darwin_arm64'));
    assert.is((await (await fetch(`${base(r)}/1.0.0/SHA256SUMS`)).text()).split('\n').length, 3);
    const darwin = r.versions.list().find((v) => v.spec.operatingSystem === 'darwin')!;
    r.versions.remove(darwin);
    assert.is(await (await fetch(`${base(r)}/1.0.0/SHA256SUMS`)).text(), `${linux.checksum}  ${linux.filename}\n`);
    r.versions.remove(r.versions.list()[0]!);
    assert.is((await fetch(`${base(r)}/versions`)).status, 404);
  });
});

test.run();
