/**
 * A stand-in for the OCI registry that serves Trivy's vulnerability database
 * (ghcr.io/aquasecurity/trivy-db:2, or the mirror a user runs), built from {@link fixtureTrivyDb}:
 * the distribution API trivy's go-containerregistry client uses (`/v2/` ping, manifest by tag
 * or digest, blobs), with an OCI manifest whose single layer is `db.tar.gz` (trivy.db and
 * metadata.json) of the media type trivy insists on. Loopback only; HTTPS with a test CA when
 * asked, as an internal mirror would be.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tarGzOf } from './archive-helpers.ts';
import { type FaultyStandin, sendFile, sendJson, startFaultyServer } from './provider-standin-server.ts';
import { fixtureTrivyDb } from './vulnerability-fixtures.ts';

/** The layer media type trivy's pkg/db accepts (any other is "unacceptable media type"). */
export const TRIVY_DB_LAYER_MEDIA_TYPE = 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip';
/** The config (and artifact) type the real trivy-db artifact carries. */
export const TRIVY_DB_CONFIG_MEDIA_TYPE = 'application/vnd.aquasec.trivy.config.v1+json';
const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A running stand-in registry. */
export interface TrivyDbRegistryStandin extends FaultyStandin {
  /** What `--db-repository` (plugin config `dbRepository`) takes: `127.0.0.1:<port>/<repository>:<tag>`. */
  readonly dbRepository: string;
  /** `sha256:<hex>` of the served manifest. */
  readonly manifestDigest: string;
}

/** Options of {@link startTrivyDbRegistryStandin}. */
export interface TrivyDbRegistryStandinOptions {
  /** A trivy cache directory whose db/ holds trivy.db and metadata.json; default {@link fixtureTrivyDb}. */
  cacheDir?: string;
  /** Default `aquasecurity/trivy-db`. */
  repository?: string;
  /** Default `2` (the database schema version trivy 0.74 asks for). */
  tag?: string;
  /** Serve HTTPS with this certificate (see createTestCertificates); default plain HTTP. */
  tls?: { certPem: string; keyPem: string };
  /** Address to listen on; default 127.0.0.1 (the cluster suite passes the node's, for pods). */
  host?: string;
}

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The OCI distribution error body clients read (`errors[].code`). */
const ociError = (code: string, message: string) => ({ errors: [{ code, message }] });

/** Packs the database into the artifact and serves it until closed. */
export async function startTrivyDbRegistryStandin(options: TrivyDbRegistryStandinOptions = {}): Promise<TrivyDbRegistryStandin> {
  const db = join(options.cacheDir ?? (await fixtureTrivyDb()), 'db');
  const repository = options.repository ?? 'aquasecurity/trivy-db';
  const tag = options.tag ?? '2';
  const layer = await tarGzOf([
    { name: 'trivy.db', content: await readFile(join(db, 'trivy.db')), mode: 0o644 },
    { name: 'metadata.json', content: await readFile(join(db, 'metadata.json')), mode: 0o644 },
  ]);
  const config = Buffer.from('{}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: TRIVY_DB_CONFIG_MEDIA_TYPE,
      config: { mediaType: TRIVY_DB_CONFIG_MEDIA_TYPE, digest: digestOf(config), size: config.length },
      // trivy names the downloaded file after the title annotation, then unpacks it by its extension.
      layers: [{ mediaType: TRIVY_DB_LAYER_MEDIA_TYPE, digest: digestOf(layer), size: layer.length, annotations: { 'org.opencontainers.image.title': 'db.tar.gz' } }],
      annotations: { 'org.opencontainers.image.created': '2026-11-30T06:00:00Z' },
    }),
  );
  const manifestDigest = digestOf(manifest);
  const blobs = new Map([
    [digestOf(config), { bytes: config, type: TRIVY_DB_CONFIG_MEDIA_TYPE }],
    [digestOf(layer), { bytes: layer, type: TRIVY_DB_LAYER_MEDIA_TYPE }],
  ]);
  const prefix = `/v2/${repository}/`;

  const server = await startFaultyServer(
    async (req, res, url) => {
      // The ping: 200 without a challenge means anonymous pulls.
      if (url.pathname === '/v2/' || url.pathname === '/v2') {
        res.setHeader('docker-distribution-api-version', 'registry/2.0');
        sendJson(res, 200, {});
        return true;
      }
      if (!url.pathname.startsWith(prefix)) {
        sendJson(res, 404, ociError('NAME_UNKNOWN', `repository name not known to registry: ${url.pathname}`));
        return true;
      }
      const [kind, ref] = url.pathname.slice(prefix.length).split('/');
      res.setHeader('docker-distribution-api-version', 'registry/2.0');
      if (kind === 'manifests' && (ref === tag || ref === manifestDigest)) {
        res.setHeader('docker-content-digest', manifestDigest);
        await sendFile(req, res, manifest, OCI_MANIFEST_MEDIA_TYPE);
        return true;
      }
      const blob = kind === 'blobs' && ref !== undefined ? blobs.get(ref) : undefined;
      if (blob) {
        res.setHeader('docker-content-digest', ref!);
        await sendFile(req, res, blob.bytes, blob.type);
        return true;
      }
      sendJson(res, 404, ociError(kind === 'blobs' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', `unknown ${kind} ${ref}`));
      return true;
    },
    { ...(options.tls && { tls: options.tls }), ...(options.host && { host: options.host }) },
  );
  return Object.assign(server, { dbRepository: `${new URL(server.url).host}/${repository}:${tag}`, manifestDigest });
}
