/**
 * A stand-in for the npm registry (registry.npmjs.org cannot be reached from the test bed's
 * pods): the workspace packages it is given are packed with `pnpm pack` (so `workspace:*`
 * becomes a real range, as in a published package) and served with the registry's shapes: the
 * packument at `/<name>` (scoped names as `/@scope%2fname`) with `dist.tarball`,
 * `dist.integrity` (SHA-512 SRI) and `dist.shasum`, and the tarball itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const PUBLISHED = '2026-01-01T00:00:00.000Z';
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One served package version. */
export interface ServedPackage {
  name: string;
  version: string;
  /** `sha512-<base64>`, as npm records it. */
  integrity: string;
  tarball: string;
  manifest: Record<string, unknown>;
  bytes: Buffer;
}

/** A running stand-in. */
export interface NpmRegistryStandin {
  /** Base URL, e.g. `http://127.0.0.1:40111/`. */
  readonly url: string;
  /** Request paths answered, oldest first. */
  readonly requests: string[];
  package(name: string): ServedPackage;
  close(): Promise<void>;
}

/** Options of {@link startNpmRegistryStandin}. */
export interface NpmRegistryStandinOptions {
  /** Workspace package directories, relative to the repository root. */
  packages: string[];
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
}

/** Packs the packages and serves them. */
export async function startNpmRegistryStandin(options: NpmRegistryStandinOptions): Promise<NpmRegistryStandin> {
  const host = options.host ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-npm-'));
  const packed: Array<Omit<ServedPackage, 'tarball'>> = [];
  for (const pkg of options.packages) {
    const out = await mkdtemp(join(dir, 'pack-'));
    await execFileAsync('pnpm', ['pack', '--pack-destination', out], { cwd: resolve(REPO_ROOT, pkg), maxBuffer: 16 * 1024 * 1024 });
    const file = (await readdir(out)).find((f) => f.endsWith('.tgz'));
    if (file === undefined) throw new Error(`pnpm pack of ${pkg} wrote no tarball`);
    const bytes = await readFile(join(out, file));
    // The manifest as published: the one inside the tarball (workspace: ranges already rewritten).
    const { stdout } = await execFileAsync('tar', ['-xzOf', join(out, file), 'package/package.json']);
    const manifest = JSON.parse(stdout) as Record<string, unknown> & { name: string; version: string };
    packed.push({ name: manifest.name, version: manifest.version, integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`, manifest, bytes });
  }

  const requests: string[] = [];
  let base = '';
  const tarballPath = (p: { name: string; version: string }) => `/${p.name}/-/${p.name.split('/').pop()}-${p.version}.tgz`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    const tarball = packed.find((p) => tarballPath(p) === path);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.bytes.length });
      res.end(tarball.bytes);
      return;
    }
    const versions = packed.filter((p) => `/${p.name}` === path);
    if (versions.length === 0) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Not found' }));
      return;
    }
    const latest = versions[versions.length - 1]!;
    const { scripts: _scripts, devDependencies: _dev, ...published } = latest.manifest;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        _id: latest.name,
        name: latest.name,
        'dist-tags': { latest: latest.version },
        time: Object.fromEntries([['created', PUBLISHED], ['modified', PUBLISHED], ...versions.map((p) => [p.version, PUBLISHED])]),
        versions: Object.fromEntries(
          versions.map((p) => [
            p.version,
            {
              ...published,
              _id: `${p.name}@${p.version}`,
              name: p.name,
              version: p.version,
              dist: { tarball: new URL(tarballPath(p), base).href, integrity: p.integrity, shasum: createHash('sha1').update(p.bytes).digest('hex') },
            },
          ]),
        ),
      }),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, host, () => ok());
  });
  base = `http://${host}:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests,
    package(name) {
      const p = packed.find((x) => x.name === name);
      if (!p) throw new Error(`the stand-in serves no package ${name}`);
      return { ...p, tarball: new URL(tarballPath(p), base).href };
    },
    async close() {
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
