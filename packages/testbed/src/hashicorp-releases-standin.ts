/**
 * A local stand-in for the HashiCorp Releases API (api.releases.hashicorp.com) and its file host
 * (releases.hashicorp.com), with the real answer shapes: the version index of a product, newest
 * first and paginated by `limit` (at most 20) and `after` (a `timestamp_created`); one release
 * with its `builds`, `url_shasums` and `url_shasums_signatures` (`_SHA256SUMS.sig` and the
 * key-specific `_SHA256SUMS.<KEYID8>.sig`); and the files: zips, SHA256SUMS, signatures and the
 * provider's `_manifest.json`. Faults can be switched on for tests.
 */
import { Buffer } from 'node:buffer';
import type { SigningKey } from './pgp.ts';
import {
  buildReleaseFiles,
  mismatchedSignature,
  removeReleaseFiles,
  sendFile,
  sendJson,
  startFaultyServer,
  type FaultyStandin,
  type ReleaseFiles,
  type StandinPlatform,
} from './provider-standin-server.ts';
import { makeProviderZip } from './provider-zip.ts';

export type { DownMode, FaultyStandin, StandinPlatform, UpstreamStandinRequest } from './provider-standin-server.ts';

/** Options of {@link startHashicorpReleasesStandin}. */
export interface HashicorpReleasesStandinOptions {
  /** The key that signs every release's SHA256SUMS. */
  signingKey: SigningKey;
  /** Port; default: a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
}

/** A release to add. */
export interface HashicorpStandinRelease {
  /** Shell stand-ins by default; a platform's `executable` packages that real provider instead (e.g. one of `helloProviderExecutables`). */
  platforms: StandinPlatform[];
  /** Plugin protocols for the `_manifest.json`; default `['5.0']`. */
  protocols?: string[];
  /** Leave the `_manifest.json` out (older releases have none). */
  noManifest?: boolean;
  /** `status.state`; default `supported`. */
  state?: 'supported' | 'unsupported' | 'withdrawn';
  /** `url_source_repository`; default `https://github.com/hashicorp/<product>`; null leaves it out. */
  sourceRepository?: string | null;
}

/** A running stand-in. */
export interface HashicorpReleasesStandin extends FaultyStandin {
  /** Adds a release of `product` (e.g. `terraform-provider-hello`); each one is created a day after the previous. */
  addRelease(product: string, version: string, release: HashicorpStandinRelease): Promise<void>;
  /** From now on, serves both signatures of the release as signatures of other bytes (by the same key). */
  corruptSignature(product: string, version: string): Promise<void>;
  /** From now on, serves other bytes for one zip than SHA256SUMS lists. */
  corruptZip(product: string, version: string, os: string, arch: string): Promise<void>;
  /** The SHA-256 (hex) SHA256SUMS gives for one platform's zip. */
  sha256Of(product: string, version: string, os: string, arch: string): string;
  /** The SHA256SUMS bytes and their signature, as served. */
  signedSums(product: string, version: string): { shasums: Buffer; signature: Buffer };
}

interface Release {
  product: string;
  version: string;
  created: string;
  state: 'supported' | 'unsupported' | 'withdrawn';
  sourceRepository: string | null;
  files: ReleaseFiles;
  /** Served instead of the real files (corruptions). */
  overrides: Map<string, Buffer>;
}

const BASE_DATE = Date.UTC(2024, 0, 1, 12, 0, 0, 123);
const MAX_LIMIT = 20;

/** Starts a HashiCorp Releases API stand-in on 127.0.0.1. */
export async function startHashicorpReleasesStandin(options: HashicorpReleasesStandinOptions): Promise<HashicorpReleasesStandin> {
  const releases = new Map<string, Release[]>();
  const workDir: { dir?: string } = {};
  let added = 0;
  const keySuffix = options.signingKey.keyId.slice(-8);

  const find = (product: string, version: string): Release => {
    const release = releases.get(product)?.find((r) => r.version === version);
    if (!release) throw new Error(`the stand-in has no release ${product} ${version}`);
    return release;
  };

  const server = await startFaultyServer(
    async (req, res, url) => {
      const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
      if (segments[0] === 'v1' && segments[1] === 'releases' && segments[2] !== undefined) {
        const list = releases.get(segments[2]);
        if (!list) {
          sendJson(res, 404, { code: 404, message: `product ${segments[2]} not found` });
          return true;
        }
        if (segments.length === 3) return index(res, list, url);
        if (segments.length === 4) {
          const wanted = segments[3] === 'latest' ? newest(list.filter((r) => !r.version.includes('-'))) : list.find((r) => r.version === segments[3]);
          if (!wanted) sendJson(res, 404, { code: 404, message: `release ${segments[3]} of ${segments[2]} not found` });
          else sendJson(res, 200, releaseJson(wanted));
          return true;
        }
        return false;
      }
      // File host: /<product>/<version>/<file>
      if (segments.length === 3) {
        const [product = '', version = '', file = ''] = segments;
        const release = releases.get(product)?.find((r) => r.version === version);
        if (!release) return false;
        const override = release.overrides.get(file);
        if (override) {
          await sendFile(req, res, override, contentTypeOf(file));
          return true;
        }
        const prefix = `${product}_${version}`;
        if (file === `${prefix}_SHA256SUMS`) await sendFile(req, res, release.files.shasums, 'text/plain; charset=utf-8');
        else if (file === `${prefix}_SHA256SUMS.sig` || file === `${prefix}_SHA256SUMS.${keySuffix}.sig`) await sendFile(req, res, release.files.signature, 'application/pgp-signature');
        else if (release.files.extras.has(file)) await sendFile(req, res, release.files.extras.get(file) as Buffer, contentTypeOf(file));
        else {
          const zip = [...release.files.zips.values()].find((z) => z.filename === file);
          if (!zip) return false;
          await sendFile(req, res, zip.file, 'application/zip');
        }
        return true;
      }
      return false;
    },
    { ...(options.port !== undefined && { port: options.port }), ...(options.host && { host: options.host }) },
  );

  /** Newest first; `after` keeps releases created strictly before it; at most `limit` (≤ 20). */
  function index(res: Parameters<typeof sendJson>[0], list: Release[], url: URL): boolean {
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam === null ? MAX_LIMIT : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      sendJson(res, 400, { code: 400, message: `limit must be between 1 and ${MAX_LIMIT}` });
      return true;
    }
    const after = url.searchParams.get('after');
    const afterTime = after === null ? Number.POSITIVE_INFINITY : Date.parse(after);
    if (Number.isNaN(afterTime)) {
      sendJson(res, 400, { code: 400, message: 'after must be a timestamp' });
      return true;
    }
    const page = [...list]
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created))
      .filter((r) => Date.parse(r.created) < afterTime)
      .slice(0, limit);
    sendJson(res, 200, page.map(releaseJson));
    return true;
  }

  function releaseJson(r: Release): Record<string, unknown> {
    const files = `${server.url}/${encodeURIComponent(r.product)}/${encodeURIComponent(r.version)}`;
    const prefix = `${r.product}_${r.version}`;
    const type = r.product.replace(/^terraform-provider-/, '');
    return {
      builds: [...r.files.zips.entries()].map(([platform, zip]) => {
        const [os = '', arch = ''] = platform.split('_');
        return { arch, os, unsupported: false, url: `${files}/${zip.filename}` };
      }),
      is_prerelease: r.version.includes('-'),
      license_class: 'oss',
      name: r.product,
      status: { state: r.state, timestamp_updated: r.created },
      timestamp_created: r.created,
      timestamp_updated: r.created,
      url_changelog: `https://github.com/hashicorp/${r.product}/blob/v${r.version}/CHANGELOG.md`,
      url_license: `https://github.com/hashicorp/${r.product}/blob/main/LICENSE`,
      url_project_website: `https://registry.terraform.io/providers/hashicorp/${type}`,
      url_shasums: `${files}/${prefix}_SHA256SUMS`,
      url_shasums_signatures: [`${files}/${prefix}_SHA256SUMS.sig`, `${files}/${prefix}_SHA256SUMS.${keySuffix}.sig`],
      ...(r.sourceRepository !== null && { url_source_repository: r.sourceRepository }),
      version: r.version,
    };
  }

  return {
    get url() {
      return server.url;
    },
    requests: server.requests,
    failNext: server.failNext,
    down: server.down,
    up: server.up,
    async close() {
      await server.close();
      await removeReleaseFiles(workDir);
    },
    async addRelease(product, version, release) {
      const type = product.replace(/^terraform-provider-/, '');
      const extras = new Map<string, Buffer>();
      if (!release.noManifest) {
        const manifest = { version: 1, metadata: { protocol_versions: release.protocols ?? ['5.0'] } };
        extras.set(`${product}_${version}_manifest.json`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      }
      const files = await buildReleaseFiles(type, version, release.platforms, options.signingKey, extras, workDir);
      const created = new Date(BASE_DATE + added++ * 86_400_000).toISOString();
      const list = releases.get(product) ?? [];
      releases.set(product, [
        ...list.filter((r) => r.version !== version),
        {
          product,
          version,
          created,
          state: release.state ?? 'supported',
          sourceRepository: release.sourceRepository === undefined ? `https://github.com/hashicorp/${product}` : release.sourceRepository,
          files,
          overrides: new Map(),
        },
      ]);
    },
    async corruptSignature(product, version) {
      const release = find(product, version);
      const bad = await mismatchedSignature(release.files.shasums, options.signingKey);
      const prefix = `${product}_${version}`;
      release.overrides.set(`${prefix}_SHA256SUMS.sig`, bad);
      release.overrides.set(`${prefix}_SHA256SUMS.${keySuffix}.sig`, bad);
    },
    async corruptZip(product, version, os, arch) {
      const release = find(product, version);
      const zip = release.files.zips.get(`${os}_${arch}`);
      if (!zip) throw new Error(`the stand-in has no ${os}_${arch} build of ${product} ${version}`);
      const type = product.replace(/^terraform-provider-/, '');
      release.overrides.set(zip.filename, await makeProviderZip({ name: type, version: `${version}-swapped`, os, arch }));
    },
    sha256Of(product, version, os, arch) {
      const zip = find(product, version).files.zips.get(`${os}_${arch}`);
      if (!zip) throw new Error(`the stand-in has no ${os}_${arch} build of ${product} ${version}`);
      return zip.file.sha256;
    },
    signedSums(product, version) {
      const release = find(product, version);
      return { shasums: release.files.shasums, signature: release.files.signature };
    },
  };
}

function newest(list: Release[]): Release | undefined {
  return [...list].sort((a, b) => Date.parse(b.created) - Date.parse(a.created))[0];
}

function contentTypeOf(file: string): string {
  if (file.endsWith('.zip')) return 'application/zip';
  if (file.endsWith('.json')) return 'application/json';
  if (file.endsWith('.sig')) return 'application/pgp-signature';
  return 'text/plain; charset=utf-8';
}
