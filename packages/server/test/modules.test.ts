/**
 * The registry server over real HTTP: discovery, modules.v1 (versions, download both ways,
 * archives), client-facing errors, read-only methods, health and metrics. Informers are
 * in-memory doubles of the informer interface; storage is a real directory on disk.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { condition, moduleResource, moduleKey, NS, sha256, startTestRegistry, store, versionResource, type TestRegistry } from './support/fixtures.ts';
import { rawRequest } from './support/http.ts';

const eks = moduleResource({ name: 'terraform-aws-eks', provider: 'aws' });

async function withRegistry(run: (r: TestRegistry) => Promise<void>, options?: Parameters<typeof startTestRegistry>[0]): Promise<void> {
  const r = await startTestRegistry(options);
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

/** Puts `eks` with Ready versions (each a distinct random archive) and returns their bytes. */
async function seed(r: TestRegistry, versions: string[], options: { fileFormat?: 'zip' | 'tar.gz'; size?: number } = {}) {
  r.modules.put(eks);
  const archives = new Map<string, Buffer>();
  for (const version of versions) {
    const data = randomBytes(options.size ?? 4096);
    const stored = await store(r.storage, moduleKey(eks, version, options.fileFormat), data);
    r.versions.put(versionResource({ owner: eks, version, stored, fileFormat: options.fileFormat ?? 'zip' }));
    archives.set(version, data);
  }
  return archives;
}

const base = (r: TestRegistry) => `${r.url}/opendepot/modules/v1/${NS}/terraform-aws-eks/aws`;

test('discovery answers 200 application/json with the modules.v1 and providers.v1 paths', async () => {
  await withRegistry(async (r) => {
    const res = await fetch(`${r.url}/.well-known/terraform.json`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
    assert.equal(await res.json(), { 'modules.v1': '/opendepot/modules/v1/', 'providers.v1': '/opendepot/providers/v1/' });
  });
});

test('the conventional /v1/modules/ path answers as the discovered one: versions, download and archive', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.2.5']);
    const conventional = `${r.url}/v1/modules/${NS}/terraform-aws-eks/aws`;
    const [discovered, aliased] = await Promise.all([fetch(`${base(r)}/versions`), fetch(`${conventional}/versions`)]);
    assert.is(aliased.status, 200);
    assert.equal(await aliased.json(), await discovered.json());
    const download = await fetch(`${conventional}/1.2.5/download`);
    assert.is(download.status, 204);
    const archive = await fetch(`${conventional}/1.2.5/archive.zip`);
    assert.is(archive.status, 200);
    assert.ok(Buffer.from(await archive.arrayBuffer()).equals(archives.get('1.2.5')!));
    assert.is((await fetch(`${r.url}/v1/modules/${NS}/no-such/aws/versions`)).status, 404);
  });
});

test('versions lists only Ready versions with a recorded checksum, canonical and in order', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.2.5', 'v1.1.0', '1.3.0']);
    r.versions.put(versionResource({ owner: eks, version: '1.4.0' })); // still syncing
    r.versions.put(
      versionResource({
        owner: eks,
        version: '1.5.0',
        conditions: [condition('Ready', 'True', 'ArchiveStored')], // Ready but no checksum recorded: never served
      }),
    );
    const res = await fetch(`${base(r)}/versions`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await res.json(), { modules: [{ versions: [{ version: '1.1.0' }, { version: '1.2.5' }, { version: '1.3.0' }] }] });
  });
});

test('module addresses match case-insensitively, as clients send names as written', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.0.0']);
    const res = await fetch(`${r.url}/opendepot/modules/v1/${NS}/Terraform-AWS-EKS/aws/versions`);
    assert.is(res.status, 200);
    assert.equal(await res.json(), { modules: [{ versions: [{ version: '1.0.0' }] }] });
  });
});

test('an unknown module is a 404 that names the module', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.0.0']);
    const res = await fetch(`${r.url}/opendepot/modules/v1/${NS}/foo/aws/versions`);
    assert.is(res.status, 404);
    const body = (await res.json()) as { errors: string[] };
    assert.is(body.errors.length, 1);
    assert.match(body.errors[0]!, `module ${NS}/foo/aws not found`);
  });
});

test('a module whose versions are all still syncing lists no versions (the client says "no versions")', async () => {
  await withRegistry(async (r) => {
    r.modules.put(eks);
    r.versions.put(versionResource({ owner: eks, version: '1.0.0' }));
    const res = await fetch(`${base(r)}/versions`);
    assert.is(res.status, 200);
    assert.equal(await res.json(), { modules: [{ versions: [] }] });
  });
});

test('download answers 204 with X-Terraform-Get pointing at the archive, which resolves and serves', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.2.5']);
    const res = await fetch(`${base(r)}/1.2.5/download`);
    assert.is(res.status, 204);
    assert.is(await res.text(), '');
    const location = res.headers.get('x-terraform-get');
    assert.is(location, `${base(r)}/1.2.5/archive.zip?checksum=sha256:${sha256(archives.get('1.2.5')!)}`, "absolute, on the request's own origin");
    // Both clients resolve "./" against the download endpoint URL.
    const archiveUrl = new URL(location!, `${base(r)}/1.2.5/download`);
    assert.is(archiveUrl.pathname, `/opendepot/modules/v1/${NS}/terraform-aws-eks/aws/1.2.5/archive.zip`);
    const archive = await fetch(archiveUrl);
    assert.is(archive.status, 200);
    assert.ok(Buffer.from(await archive.arrayBuffer()).equals(archives.get('1.2.5')!));
  });
});

test('download answers 200 {"location"} plus the same header to a client that asks for JSON', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.2.5']);
    const res = await fetch(`${base(r)}/1.2.5/download`, { headers: { Accept: 'application/json' } });
    assert.is(res.status, 200);
    const body = (await res.json()) as { location: string };
    assert.is(body.location, res.headers.get('x-terraform-get'));
    assert.match(body.location, /^http:\/\/127\.0\.0\.1:\d+\/opendepot\/modules\/v1\/[^/]+\/[^/]+\/[^/]+\/[^/]+\/archive\.zip\?checksum=sha256:[a-f0-9]{64}$/);
  });
});

test('download accepts a version written with a v, and tar.gz archives get a .tar.gz location', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['2.0.0'], { fileFormat: 'tar.gz' });
    const res = await fetch(`${base(r)}/v2.0.0/download`);
    assert.is(res.status, 204);
    assert.match(res.headers.get('x-terraform-get') ?? '', /\/2\.0\.0\/archive\.tar\.gz\?checksum=sha256:/);
    const archive = await fetch(`${base(r)}/2.0.0/archive.tar.gz`);
    assert.is(archive.status, 200);
    assert.is(archive.headers.get('content-type'), 'application/gzip');
    await archive.arrayBuffer();
    const wrongSuffix = await fetch(`${base(r)}/2.0.0/archive.zip`);
    assert.is(wrongSuffix.status, 404);
    assert.match(((await wrongSuffix.json()) as { errors: string[] }).errors[0]!, 'archive.tar.gz');
  });
});

test('an unknown version is a 404 naming the version and the available ones', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.1.0', '1.2.0']);
    for (const path of ['9.9.9/download', '9.9.9/archive.zip']) {
      const res = await fetch(`${base(r)}/${path}`);
      assert.is(res.status, 404);
      const [message] = ((await res.json()) as { errors: string[] }).errors;
      assert.match(message!, `module ${NS}/terraform-aws-eks/aws has no version 9.9.9`);
      assert.match(message!, 'available versions: 1.1.0, 1.2.0');
    }
  });
});

test('a version still syncing is a 503 with Retry-After saying so; a stalled one a 409 with the reason', async () => {
  await withRegistry(async (r) => {
    r.modules.put(eks);
    r.versions.put(
      versionResource({
        owner: eks,
        version: '1.3.0',
        conditions: [condition('Ready', 'False', 'Fetching', 'downloading the archive'), condition('Reconciling', 'True', 'Fetching')],
      }),
    );
    r.versions.put(
      versionResource({
        owner: eks,
        version: '1.4.0',
        conditions: [condition('Ready', 'False', 'ChecksumMismatch'), condition('Stalled', 'True', 'ChecksumMismatch', 'the upstream archive changed')],
      }),
    );
    const syncing = await fetch(`${base(r)}/1.3.0/download`);
    assert.is(syncing.status, 503);
    assert.is(syncing.headers.get('retry-after'), '10');
    assert.match(((await syncing.json()) as { errors: string[] }).errors[0]!, 'version 1.3.0 is not available yet: it is still being synced (reason: Fetching)');
    const stalled = await fetch(`${base(r)}/1.4.0/download`);
    assert.is(stalled.status, 409);
    assert.match(
      ((await stalled.json()) as { errors: string[] }).errors[0]!,
      'version 1.4.0 is not available: neither its stored archive nor its source matches the recorded checksum, so it is neither listed nor served (reason: ChecksumMismatch)',
    );
    const archive = await fetch(`${base(r)}/1.3.0/archive.zip`);
    assert.is(archive.status, 503);
    await archive.arrayBuffer();
  });
});

test('attack: condition messages (internal URLs, TLS errors, port probes) never reach a client; the log has them', async () => {
  await withRegistry(async (r) => {
    r.modules.put(eks);
    const secrets = [
      'https://10.96.0.17:6443/internal/repo.git',
      'x509: certificate signed by unknown authority',
      'connect ECONNREFUSED 10.0.0.5:5432',
      'tls: first record does not look like a TLS handshake',
    ];
    const versions: [string, ReturnType<typeof condition>[]][] = [
      ['1.5.0', [condition('Ready', 'False', 'UpstreamUnavailable', `fetching ${secrets[0]}: ${secrets[1]}`)]],
      ['1.6.0', [condition('Ready', 'False', 'UpstreamUnavailable', secrets[2]), condition('Stalled', 'True', 'InvalidInput', secrets[3])]],
      // A reason that is not a plain code is not repeated either.
      ['1.7.0', [condition('Ready', 'False', 'Failed', 'x'), condition('Stalled', 'True', 'Failed:10.0.0.5', secrets[2])]],
    ];
    for (const [version, conditions] of versions) r.versions.put(versionResource({ owner: eks, version, conditions }));
    const bodies: string[] = [];
    for (const [version] of versions) {
      for (const path of ['download', 'archive.zip']) {
        const res = await fetch(`${base(r)}/${version}/${path}`);
        assert.ok(res.status === 503 || res.status === 409, `${version}/${path}: ${res.status}`);
        bodies.push(await res.text());
      }
    }
    const all = bodies.join('\n');
    for (const secret of [...secrets, '10.96.0.17', '10.0.0.5', 'x509', 'ECONNREFUSED', 'tls:']) assert.not.match(all, secret, secret);
    assert.match(bodies[0]!, 'version 1.5.0 is not available yet: it is still being synced (reason: UpstreamUnavailable)"]}');
    assert.match(bodies[2]!, 'version 1.6.0 is not available: it is stalled (reason: InvalidInput)');
    assert.match(bodies[4]!, 'version 1.7.0 is not available: it is stalled (reason: Stalled)');
    // The operator's words are still where the platform team looks.
    const logged = JSON.stringify(r.logs.filter((l) => l.msg === 'version not served'));
    for (const secret of secrets) assert.match(logged, JSON.stringify(secret).slice(1, -1), secret);
  });
});

test('the archive route streams the object with Content-Length, ETag and content type; HEAD reads no storage', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.2.5'], { size: 300_000 });
    const data = archives.get('1.2.5')!;
    const head = await rawRequest(`${base(r)}/1.2.5/archive.zip`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.headers['content-length'], String(data.length));
    assert.is(head.headers.etag, `"${sha256(data)}"`);
    assert.is(head.headers['content-type'], 'application/zip');
    assert.is(head.body.length, 0);
    assert.equal(r.storage.reads, []);

    const res = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
    assert.is(res.status, 200);
    assert.ok(res.complete);
    assert.is(res.headers['content-length'], String(data.length));
    assert.is(res.headers['accept-ranges'], 'none');
    assert.ok(res.body.equals(data));
    assert.equal(r.storage.reads, [moduleKey(eks, '1.2.5')]);

    const notModified = await rawRequest(`${base(r)}/1.2.5/archive.zip`, { headers: { 'If-None-Match': `"${sha256(data)}"` } });
    assert.is(notModified.status, 304);
  });
});

test('a tampered object (same size) is cut off before its last bytes: the client never sees a complete body', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.2.5'], { size: 1_000_000 });
    const original = archives.get('1.2.5')!;
    const tampered = Buffer.from(original);
    tampered[tampered.length - 10] = tampered[tampered.length - 10]! ^ 0xff;
    await writeFile(r.storage.path(moduleKey(eks, '1.2.5')), tampered);

    const res = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
    assert.is(res.status, 200, 'the headers went out before the hash was known');
    assert.is(res.complete, false);
    assert.ok(res.error, 'the client saw the transfer fail');
    assert.ok(res.body.length < original.length, `received ${res.body.length} of ${original.length} bytes`);

    // fetch, like go-getter, rejects the body instead of returning the wrong bytes.
    const viaFetch = await fetch(`${base(r)}/1.2.5/archive.zip`);
    const outcome = await viaFetch.arrayBuffer().then(
      () => 'resolved',
      (err: Error) => `rejected: ${err.message}`,
    );
    assert.is(outcome, 'rejected: terminated');

    await new Promise((resolve) => setTimeout(resolve, 50));
    const metrics = await (await fetch(`${r.metricsUrl}/metrics`)).text();
    assert.match(metrics, /opendepot_server_archive_verification_failures_total 2/);
    const aborted = r.logs.find((l) => l.msg === 'request' && l.outcome === 'checksum-mismatch');
    assert.ok(aborted, `the access log records the aborted download: ${JSON.stringify(r.logs.filter((l) => l.msg === 'request'))}`);
    assert.is(aborted.aborted, true);
    assert.ok(r.logs.some((l) => l.level === 'error' && String(l.msg).includes('does not match the checksum')));
  });
});

test('an object tampered after it was served verified is still cut off: the repeat downloads were checked by the keyed tag', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.2.5'], { size: 1_000_000 });
    const original = archives.get('1.2.5')!;
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
      assert.ok(res.complete && res.body.equals(original), `download ${i + 1} is whole`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const counted = await (await fetch(`${r.metricsUrl}/metrics`)).text();
    assert.match(counted, /opendepot_server_archive_verifications_total\{by="sha256"\} 1\n/);
    assert.match(counted, /opendepot_server_archive_verifications_total\{by="tag"\} 2\n/);

    const tampered = Buffer.from(original);
    tampered[500_000] = tampered[500_000]! ^ 0x01;
    await writeFile(r.storage.path(moduleKey(eks, '1.2.5')), tampered);
    const cut = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
    assert.is(cut.complete, false);
    assert.ok(cut.body.length < original.length, `received ${cut.body.length} of ${original.length} bytes`);
    // The tag is forgotten: the next attempt hashes the bytes and logs their actual SHA-256.
    const again = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
    assert.is(again.complete, false);
    const actual = sha256(tampered);
    assert.ok(
      r.logs.some((l) => l.level === 'error' && l.actual === actual),
      'the second refusal names the actual checksum',
    );
  });
});

test('a tampered object of another size is refused with a 503 before any byte is sent', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.2.5']);
    await writeFile(r.storage.path(moduleKey(eks, '1.2.5')), randomBytes(100));
    const res = await rawRequest(`${base(r)}/1.2.5/archive.zip`);
    assert.is(res.status, 503);
    assert.match(JSON.parse(res.body.toString()).errors[0], 'does not match the checksum recorded on its Version');
  });
});

test('a Ready version whose object is missing is a 503, not a 404 or a 500', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.2.5']);
    await r.storage.delete(moduleKey(eks, '1.2.5'));
    const res = await fetch(`${base(r)}/1.2.5/archive.zip`);
    assert.is(res.status, 503);
    assert.match(((await res.json()) as { errors: string[] }).errors[0]!, 'is missing');
  });
});

test('informer events update the answers: a version turning Ready appears, a deleted module disappears', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.0.0']);
    const pending = versionResource({ owner: eks, version: '1.1.0' });
    r.versions.put(pending);
    assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { modules: [{ versions: [{ version: '1.0.0' }] }] });
    const stored = await store(r.storage, moduleKey(eks, '1.1.0'), randomBytes(10));
    r.versions.put(versionResource({ owner: eks, version: '1.1.0', stored }));
    assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { modules: [{ versions: [{ version: '1.0.0' }, { version: '1.1.0' }] }] });
    r.versions.remove(pending);
    assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { modules: [{ versions: [{ version: '1.0.0' }] }] });
    r.modules.remove(eks);
    assert.is((await fetch(`${base(r)}/versions`)).status, 404);
  });
});

test('readyz is 503 until every informer has synced, then 200; healthz is always 200', async () => {
  await withRegistry(
    async (r) => {
      assert.is((await fetch(`${r.url}/healthz`)).status, 200);
      const before = await fetch(`${r.url}/readyz`);
      assert.is(before.status, 503);
      assert.equal(await before.json(), { status: 'not ready', waitingFor: ['modules informer', 'versions informer'] });
      r.modules.markSynced();
      assert.is((await fetch(`${r.url}/readyz`)).status, 503);
      r.versions.markSynced();
      assert.is((await fetch(`${r.url}/readyz`)).status, 200);
    },
    { synced: false },
  );
});

test('before the caches have synced, registry requests get 503 with Retry-After (not a false 404); discovery and health answer', async () => {
  await withRegistry(
    async (r) => {
      const stored = await store(r.storage, moduleKey(eks, '3.0.0'), randomBytes(10));
      r.modules.putSilently(eks);
      r.versions.putSilently(versionResource({ owner: eks, version: '3.0.0', stored }));
      for (const path of [`${base(r)}/versions`, `${base(r)}/3.0.0/download`, `${r.url}/opendepot/providers/v1/${NS}/hello/versions`, `${r.url}/opendepot/modules/v1/${NS}/not-there/aws/versions`]) {
        const res = await fetch(path);
        assert.is(res.status, 503, path);
        assert.is(res.headers.get('retry-after'), '5', path);
        assert.match(((await res.json()) as { errors: string[] }).errors[0]!, 'starting', path);
      }
      assert.is((await fetch(`${r.url}/.well-known/terraform.json`)).status, 200, 'discovery answers: tofu login reads it first');
      assert.is((await fetch(`${r.url}/healthz`)).status, 200);
      r.modules.markSynced();
      assert.is((await fetch(`${base(r)}/versions`)).status, 503, 'one informer is not enough');
      r.versions.markSynced();
      assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { modules: [{ versions: [{ version: '3.0.0' }] }] });
      assert.is((await fetch(`${r.url}/opendepot/modules/v1/${NS}/not-there/aws/versions`)).status, 404, 'after the sync, a missing module is a 404');
    },
    { synced: false },
  );
});

test('objects an informer loads without events are picked up once it has synced', async () => {
  await withRegistry(
    async (r) => {
      const stored = await store(r.storage, moduleKey(eks, '3.0.0'), randomBytes(10));
      r.modules.putSilently(eks);
      r.versions.putSilently(versionResource({ owner: eks, version: '3.0.0', stored }));
      r.modules.markSynced();
      r.versions.markSynced();
      assert.equal(await (await fetch(`${base(r)}/versions`)).json(), { modules: [{ versions: [{ version: '3.0.0' }] }] });
    },
    { synced: false },
  );
});

test('only GET and HEAD exist: other methods are 405 with Allow, on every path', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.0.0']);
    for (const [method, path] of [
      ['POST', '/opendepot/modules/v1/x/y/z/versions'],
      ['PUT', `/opendepot/modules/v1/${NS}/terraform-aws-eks/aws/1.0.0/archive.zip`],
      ['DELETE', `/opendepot/modules/v1/${NS}/terraform-aws-eks/aws/1.0.0/archive.zip`],
      ['PATCH', '/.well-known/terraform.json'],
      ['POST', '/nowhere'],
    ] as const) {
      const res = await fetch(`${r.url}${path}`, { method });
      assert.is(res.status, 405, `${method} ${path}`);
      assert.is(res.headers.get('allow'), 'GET, HEAD');
      assert.match(((await res.json()) as { errors: string[] }).errors[0]!, 'read-only');
    }
    assert.ok(r.storage.reads.length === 0);
  });
});

test('every answer carries nosniff; unknown paths are JSON 404s', async () => {
  await withRegistry(async (r) => {
    for (const path of ['/.well-known/terraform.json', '/nowhere', '/opendepot/modules/v1/a/b/c/versions']) {
      const res = await fetch(`${r.url}${path}`);
      assert.is(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.match(res.headers.get('content-security-policy') ?? '', "default-src 'none'");
      await res.arrayBuffer();
    }
    const res = await fetch(`${r.url}/nowhere`);
    assert.is(res.status, 404);
    assert.is(res.statusText, 'Not Found: no such endpoint: /nowhere');
    assert.equal(await res.json(), { errors: ['no such endpoint: /nowhere'] });
  });
});

test('access logs are structured JSON per request and never contain the Authorization header', async () => {
  await withRegistry(async (r) => {
    await seed(r, ['1.0.0']);
    const secret = 'supersecret-token-value';
    const res = await fetch(`${base(r)}/versions`, { headers: { Authorization: `Bearer ${secret}`, 'X-Terraform-Version': '1.12.6' } });
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = r.logs.find((l) => l.msg === 'request' && l.route === 'modules.versions');
    assert.ok(line);
    assert.is(line.status, 200);
    assert.is(line.method, 'GET');
    assert.is(line.clientVersion, '1.12.6');
    assert.type(line.durationMs, 'number');
    assert.not.match(JSON.stringify(r.logs), secret);
  });
});

test('metrics count requests by route and status and the bytes served', async () => {
  await withRegistry(async (r) => {
    const archives = await seed(r, ['1.0.0'], { size: 12_345 });
    await (await fetch(`${base(r)}/versions`)).arrayBuffer();
    await (await fetch(`${base(r)}/1.0.0/archive.zip`)).arrayBuffer();
    await (await fetch(`${base(r)}/9.0.0/download`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await fetch(`${r.metricsUrl}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /opendepot_server_http_requests_total\{route="modules.versions",method="GET",status="200"\} 1/);
    assert.match(text, /opendepot_server_http_requests_total\{route="modules.download",method="GET",status="404"\} 1/);
    assert.match(text, new RegExp(`opendepot_server_response_bytes_total\\{route="modules.archive"\\} ${archives.get('1.0.0')!.length}`));
    assert.match(text, /opendepot_server_http_request_duration_seconds_bucket\{le="0.005",route="modules.versions",method="GET",status="200"\}/);
  });
});

test('/metrics is served on the metrics port only: the registry port answers 404, the metrics port nothing but /metrics', async () => {
  await withRegistry(async (r) => {
    assert.is.not(new URL(r.metricsUrl).port, new URL(r.url).port);
    const onPublic = await fetch(`${r.url}/metrics`);
    assert.is(onPublic.status, 404);
    assert.not.match(await onPublic.text(), 'opendepot_server');
    const onMetrics = await fetch(`${r.metricsUrl}/metrics`);
    assert.is(onMetrics.status, 200);
    assert.match(await onMetrics.text(), 'opendepot_server_http_requests_total');
    for (const path of ['/healthz', '/.well-known/terraform.json', `/opendepot/modules/v1/${NS}/x/aws/versions`]) {
      const res = await fetch(`${r.metricsUrl}${path}`);
      assert.is(res.status, 404, path);
      await res.arrayBuffer();
    }
  });
});

test.run();
