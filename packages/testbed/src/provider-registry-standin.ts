/**
 * A local stand-in for an upstream provider registry (registry.opentofu.org,
 * registry.terraform.io) speaking `providers.v1` as protocol.md §3 describes: service discovery,
 * `versions` with protocols and platforms, and `download/<os>/<arch>` metadata with
 * `download_url`, `shasums_url`, `shasums_signature_url`, `shasum` and `signing_keys`; plus the
 * files it points at. Faults can be switched on for tests.
 */
import type { Buffer } from 'node:buffer';
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

/** Options of {@link startProviderRegistryStandin}. */
export interface ProviderRegistryStandinOptions {
  /** The key that signs every SHA256SUMS, and that `signing_keys` lists. */
  signingKey: SigningKey;
  /** Serve HTTPS with this certificate (discovery by tofu needs it). */
  tls?: { certPem: string; keyPem: string };
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /** Give `download_url`, `shasums_url` and `shasums_signature_url` as paths relative to the answer. Default: absolute. */
  relativeUrls?: boolean;
}

/** A running stand-in. */
export interface ProviderRegistryStandin extends FaultyStandin {
  /** The `providers.v1` base URL, e.g. `http://127.0.0.1:41234/v1/providers/`. */
  readonly providersUrl: string;
  /** `sourceRepository`: the `source` of the version's `GET <providers.v1>/<namespace>/<type>/<version>` (the public registries' provider API); unset: that endpoint answers 404. */
  addProvider(namespace: string, type: string, version: string, platforms: StandinPlatform[], options?: { protocols?: string[]; sourceRepository?: string }): Promise<void>;
  /** From now on, serves the signature of other bytes (by the same key) for the version's SHA256SUMS. */
  corruptSignature(namespace: string, type: string, version: string): Promise<void>;
  /** From now on, serves other bytes for one zip than SHA256SUMS and `shasum` give. */
  corruptZip(namespace: string, type: string, version: string, os: string, arch: string): Promise<void>;
  /** From now on, the download metadata of one platform gives a `shasum` that SHA256SUMS does not. */
  corruptShasum(namespace: string, type: string, version: string, os: string, arch: string): void;
  /** Lists these public keys in `signing_keys` instead of the signing key's (unset: back to the signing key). */
  setServedKeys(publicKeysArmored: string[] | undefined): void;
  /** The SHA-256 (hex) SHA256SUMS gives for one platform's zip. */
  sha256Of(namespace: string, type: string, version: string, os: string, arch: string): string;
  /** The SHA256SUMS bytes and their signature, as served. */
  signedSums(namespace: string, type: string, version: string): { shasums: Buffer; signature: Buffer };
}

interface ProviderVersion {
  version: string;
  protocols: string[];
  sourceRepository?: string;
  files: ReleaseFiles;
  overrides: Map<string, Buffer>;
  badShasums: Set<string>;
}

const SERVICE_PATH = '/v1/providers/';

/** Starts a provider registry stand-in on 127.0.0.1. */
export async function startProviderRegistryStandin(options: ProviderRegistryStandinOptions): Promise<ProviderRegistryStandin> {
  const providers = new Map<string, ProviderVersion[]>();
  const workDir: { dir?: string } = {};
  let servedKeys: string[] | undefined;

  const keyOf = (namespace: string, type: string) => `${namespace}/${type}`.toLowerCase();
  const find = (namespace: string, type: string, version: string): ProviderVersion => {
    const found = providers.get(keyOf(namespace, type))?.find((v) => v.version === version);
    if (!found) throw new Error(`the stand-in has no provider ${namespace}/${type} ${version}`);
    return found;
  };

  const server = await startFaultyServer(
    async (req, res, url) => {
      if (url.pathname === '/.well-known/terraform.json') {
        sendJson(res, 200, { 'providers.v1': SERVICE_PATH });
        return true;
      }
      const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
      if (url.pathname.startsWith(SERVICE_PATH)) {
        const [namespace = '', type = '', ...rest] = segments.slice(2);
        const versions = providers.get(keyOf(namespace, type));
        if (!versions) return false;
        if (rest.length === 1 && rest[0] === 'versions') {
          sendJson(res, 200, {
            versions: versions.map((v) => ({
              version: v.version,
              protocols: v.protocols,
              platforms: [...v.files.zips.keys()].map((p) => ({ os: p.split('_')[0], arch: p.split('_')[1] })),
            })),
          });
          return true;
        }
        if (rest.length === 1) {
          const entry = versions.find((v) => v.version === rest[0]);
          if (!entry?.sourceRepository) return false;
          sendJson(res, 200, { id: `${namespace}/${type}/${entry.version}`, namespace, name: type, version: entry.version, source: entry.sourceRepository, protocols: entry.protocols });
          return true;
        }
        if (rest.length === 4 && rest[1] === 'download') {
          const [version = '', , os = '', arch = ''] = rest;
          const entry = versions.find((v) => v.version === version);
          const zip = entry?.files.zips.get(`${os}_${arch}`);
          if (!entry || !zip) return false;
          const files = `/files/${encodeURIComponent(namespace)}/${encodeURIComponent(type)}/${encodeURIComponent(version)}`;
          const link = (name: string) => (options.relativeUrls ? `${files}/${name}` : `${server.url}${files}/${name}`);
          const sums = `terraform-provider-${type}_${version}_SHA256SUMS`;
          const keys = servedKeys ?? [options.signingKey.publicKeyArmored];
          sendJson(res, 200, {
            protocols: entry.protocols,
            os,
            arch,
            filename: zip.filename,
            download_url: link(zip.filename),
            shasums_url: link(sums),
            shasums_signature_url: link(`${sums}.sig`),
            shasum: entry.badShasums.has(`${os}_${arch}`) ? 'f'.repeat(64) : zip.file.sha256,
            signing_keys: {
              gpg_public_keys: keys.map((armor) => ({
                key_id: armor === options.signingKey.publicKeyArmored ? options.signingKey.keyId : '',
                ascii_armor: armor,
                trust_signature: '',
                source: 'OpenDepot stand-in',
                source_url: `${server.url}/`,
              })),
            },
          });
          return true;
        }
        return false;
      }
      // Files: /files/<namespace>/<type>/<version>/<file>
      if (segments[0] === 'files' && segments.length === 5) {
        const [, namespace = '', type = '', version = '', file = ''] = segments;
        const entry = providers.get(keyOf(namespace, type))?.find((v) => v.version === version);
        if (!entry) return false;
        const sums = `terraform-provider-${type}_${version}_SHA256SUMS`;
        const override = entry.overrides.get(file);
        if (override) await sendFile(req, res, override, file.endsWith('.zip') ? 'application/zip' : 'application/octet-stream');
        else if (file === sums) await sendFile(req, res, entry.files.shasums, 'text/plain; charset=utf-8');
        else if (file === `${sums}.sig`) await sendFile(req, res, entry.files.signature, 'application/octet-stream');
        else {
          const zip = [...entry.files.zips.values()].find((z) => z.filename === file);
          if (!zip) return false;
          await sendFile(req, res, zip.file, 'application/zip');
        }
        return true;
      }
      return false;
    },
    { ...(options.port !== undefined ? { port: options.port } : {}), ...(options.tls ? { tls: options.tls } : {}) },
  );

  return {
    get url() {
      return server.url;
    },
    get providersUrl() {
      return `${server.url}${SERVICE_PATH}`;
    },
    requests: server.requests,
    failNext: server.failNext,
    down: server.down,
    up: server.up,
    async close() {
      await server.close();
      await removeReleaseFiles(workDir);
    },
    async addProvider(namespace, type, version, platforms, extra = {}) {
      const files = await buildReleaseFiles(type, version, platforms, options.signingKey, new Map(), workDir);
      const key = keyOf(namespace, type);
      const list = (providers.get(key) ?? []).filter((v) => v.version !== version);
      list.push({ version, protocols: extra.protocols ?? ['5.0'], ...(extra.sourceRepository && { sourceRepository: extra.sourceRepository }), files, overrides: new Map(), badShasums: new Set() });
      providers.set(key, list);
    },
    async corruptSignature(namespace, type, version) {
      const entry = find(namespace, type, version);
      entry.overrides.set(`terraform-provider-${type}_${version}_SHA256SUMS.sig`, await mismatchedSignature(entry.files.shasums, options.signingKey));
    },
    async corruptZip(namespace, type, version, os, arch) {
      const entry = find(namespace, type, version);
      const zip = entry.files.zips.get(`${os}_${arch}`);
      if (!zip) throw new Error(`the stand-in has no ${os}_${arch} package of ${namespace}/${type} ${version}`);
      entry.overrides.set(zip.filename, await makeProviderZip({ name: type, version: `${version}-swapped`, os, arch }));
    },
    corruptShasum(namespace, type, version, os, arch) {
      find(namespace, type, version).badShasums.add(`${os}_${arch}`);
    },
    setServedKeys(keys) {
      servedKeys = keys;
    },
    sha256Of(namespace, type, version, os, arch) {
      const zip = find(namespace, type, version).files.zips.get(`${os}_${arch}`);
      if (!zip) throw new Error(`the stand-in has no ${os}_${arch} package of ${namespace}/${type} ${version}`);
      return zip.file.sha256;
    },
    signedSums(namespace, type, version) {
      const entry = find(namespace, type, version);
      return { shasums: entry.files.shasums, signature: entry.files.signature };
    },
  };
}
