/**
 * What the provider upstream stand-ins share: a loopback HTTP(S) server with a request log and
 * fault switches (fail the next requests, go down), and the signed files of a provider release
 * (zips, SHA256SUMS, its binary detached signature) built with the real signing code.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { signDetached, type SigningKey } from './pgp.ts';
import { makeProviderZip, writeProviderZip } from './provider-zip.ts';

/** A request a stand-in answered. */
export interface UpstreamStandinRequest {
  method: string;
  /** Path and query. */
  url: string;
  status: number;
}

/** One platform of a stand-in release. */
export interface StandinPlatform {
  os: string;
  arch: string;
  /** Exact zip size, for big-artifact tests (packages above 32 MiB are kept on disk). */
  size?: number;
  /** Serve exactly these bytes as the zip (signed like any other), e.g. a hostile zip. */
  bytes?: Buffer;
  /** Package this file (a real provider built for the platform) instead of the shell stand-in; kept on disk. */
  executable?: string;
}

/** How a stand-in is down: connections refused, or every request answered 503. */
export type DownMode = 'refuse' | '503';

/** The fault switches and log every provider upstream stand-in has. */
export interface FaultyStandin {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request answered, oldest first. */
  readonly requests: UpstreamStandinRequest[];
  /** The next `count` requests are answered with `status` (default 500), with `Retry-After` when given. */
  failNext(count: number, status?: number, retryAfterSeconds?: number): void;
  /** Goes down: refuses connections (default) or answers 503 to everything. */
  down(mode?: DownMode): Promise<void>;
  /** Comes back on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A file the stand-in serves: in memory, or on disk when big. */
export type StoredFile = { bytes: Buffer; sha256: string } | { path: string; size: number; sha256: string };

/** Handles one request; answers 404 when it returns false. */
export type StandinHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

/** Starts a loopback server with the fault switches around `handler`. */
/** Where a stand-in listens: a port (default: a free one) on `host` (default 127.0.0.1; the cluster suite's node address for pods). */
export interface StandinListen {
  port?: number;
  host?: string;
}

export async function startFaultyServer(handler: StandinHandler, options: StandinListen & { tls?: { certPem: string; keyPem: string } } = {}): Promise<FaultyStandin> {
  const host = options.host ?? '127.0.0.1';
  const requests: UpstreamStandinRequest[] = [];
  let failures = { count: 0, status: 500, retryAfterSeconds: undefined as number | undefined };
  let mode: 'up' | DownMode = 'up';
  const scheme = options.tls ? 'https' : 'http';
  let base = '';

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const entry: UpstreamStandinRequest = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const answer = async () => {
      if (mode === '503') return sendJson(res, 503, { code: 503, message: 'service unavailable' });
      if (failures.count > 0) {
        failures.count--;
        if (failures.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(failures.retryAfterSeconds));
        return sendJson(res, failures.status, { code: failures.status, message: 'injected failure' });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 405, message: 'method not allowed' });
      const handled = await handler(req, res, new URL(req.url ?? '/', base));
      if (!handled) sendJson(res, 404, { code: 404, message: 'not found', errors: ['not found'] });
    };
    answer().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 500, message: `stand-in error: ${(err as Error).message}` });
      else res.destroy();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, listener) : createHttpServer(listener);

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  base = `${scheme}://${host}:${port}`;

  return {
    get url() {
      return base;
    },
    requests,
    failNext(count, status = 500, retryAfterSeconds) {
      failures = { count, status, retryAfterSeconds };
    },
    async down(how = 'refuse') {
      if (mode === 'refuse') return;
      mode = how;
      if (how === 'refuse') await stop();
    },
    async up() {
      if (mode === 'refuse') await listen(port);
      mode = 'up';
    },
    async close() {
      if (mode !== 'refuse') await stop();
      mode = 'refuse';
    },
  };
}

/** Sends a JSON answer (`application/json`, as the clients require). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends a stored file with its length (HEAD: headers only). */
export async function sendFile(req: IncomingMessage, res: ServerResponse, file: StoredFile | Buffer, contentType: string): Promise<void> {
  const size = Buffer.isBuffer(file) ? file.length : 'bytes' in file ? file.bytes.length : file.size;
  res.writeHead(200, { 'content-type': contentType, 'content-length': size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (Buffer.isBuffer(file)) res.end(file);
  else if ('bytes' in file) res.end(file.bytes);
  else await pipeline(createReadStream(file.path), res);
}

/** The files of one signed provider release. */
export interface ReleaseFiles {
  /** `<os>_<arch>` → the zip. */
  zips: Map<string, { filename: string; file: StoredFile }>;
  /** File name → bytes of the other files listed in SHA256SUMS (e.g. the HashiCorp manifest). */
  extras: Map<string, Buffer>;
  shasums: Buffer;
  /** Binary detached signature of `shasums`. */
  signature: Buffer;
}

/** Big zips go to this directory; removed by {@link removeReleaseFiles}. */
const BIG = 32 * 1024 * 1024;

/**
 * Builds the zips of `type` `version` for `platforms`, SHA256SUMS over them and `extras` (sorted
 * `<hex>  <name>` lines, no blank line) and its signature by `signingKey`.
 */
export async function buildReleaseFiles(
  type: string,
  version: string,
  platforms: readonly StandinPlatform[],
  signingKey: SigningKey,
  extras: Map<string, Buffer> = new Map(),
  workDir?: { dir?: string },
): Promise<ReleaseFiles> {
  const zips = new Map<string, { filename: string; file: StoredFile }>();
  for (const p of platforms) {
    const filename = `terraform-provider-${type}_${version}_${p.os}_${p.arch}.zip`;
    const options = { name: type, version, os: p.os, arch: p.arch, ...(p.size !== undefined ? { size: p.size } : {}), ...(p.executable !== undefined ? { executable: p.executable } : {}) };
    if (p.bytes) {
      zips.set(`${p.os}_${p.arch}`, { filename, file: { bytes: p.bytes, sha256: sha256Of(p.bytes) } });
    } else if ((p.size !== undefined && p.size > BIG) || p.executable !== undefined) {
      if (workDir) workDir.dir ??= await mkdtemp(join(tmpdir(), 'opendepot-standin-'));
      const path = join(workDir?.dir ?? tmpdir(), filename);
      const written = await writeProviderZip(path, options);
      zips.set(`${p.os}_${p.arch}`, { filename, file: { path, size: written.size, sha256: written.sha256 } });
    } else {
      const bytes = await makeProviderZip(options);
      zips.set(`${p.os}_${p.arch}`, { filename, file: { bytes, sha256: sha256Of(bytes) } });
    }
  }
  const lines = [...[...zips.values()].map((z) => [z.filename, z.file.sha256] as const), ...[...extras].map(([name, bytes]) => [name, sha256Of(bytes)] as const)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hash]) => `${hash}  ${name}\n`);
  const shasums = Buffer.from(lines.join(''));
  return { zips, extras, shasums, signature: Buffer.from(await signDetached(shasums, signingKey.privateKeyArmored)) };
}

/** A well-formed signature by the same key over different bytes: what a tampered SHA256SUMS looks like. */
export async function mismatchedSignature(shasums: Buffer, signingKey: SigningKey): Promise<Buffer> {
  return Buffer.from(await signDetached(Buffer.concat([shasums, Buffer.from('# tampered\n')]), signingKey.privateKeyArmored));
}

/** Removes the on-disk zips of a stand-in. */
export async function removeReleaseFiles(workDir: { dir?: string }): Promise<void> {
  if (workDir.dir) await rm(workDir.dir, { recursive: true, force: true });
}

/** Lower-case hex SHA-256. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
