/**
 * fake-gcs-server, the Google Cloud Storage emulator, on a free loopback port over plain HTTP.
 * It speaks the JSON API (uploads, rewrites, generations) and serves signed-URL paths
 * (`/<bucket>/<object>`) for the public host it is told, but it checks neither signatures nor
 * expiry of signed URLs.
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

/** Options of {@link startFakeGcs}. */
export interface FakeGcsOptions {
  /**
   * `memory` (default) keeps every object in the emulator's memory, with generations, so a read
   * pinned to a generation sees exactly that object; `filesystem` keeps them in a temporary
   * directory, but without generations.
   */
  backend?: 'memory' | 'filesystem';
  /** Buckets to create once it is up. */
  buckets?: string[];
  /** Log every request (Apache combined format) to `logFile`. Default: warnings only. */
  logRequests?: boolean;
}

/** A running fake-gcs-server. */
export interface FakeGcs {
  /** `http://127.0.0.1:<port>`: the API endpoint, and the host signed URLs must point at. */
  url: string;
  port: number;
  /** Directory with its log and, for the filesystem backend, the data. */
  dir: string;
  /** Its log; with `logRequests`, one line per request with the full request URI. */
  logFile: string;
  /** Creates a bucket (idempotent). */
  createBucket(name: string): Promise<void>;
  /** Names of the objects in `bucket` (every page). */
  listObjects(bucket: string, prefix?: string): Promise<string[]>;
  /** Deletes every object in `bucket`, keeping the bucket. */
  emptyBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

async function launch(bin: string, dir: string, backend: 'memory' | 'filesystem', logLevel: string): Promise<{ process: ManagedProcess; port: number; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '-scheme',
    'http',
    '-host',
    '127.0.0.1',
    '-port',
    String(port),
    // Signed-URL paths (/<bucket>/<object>) are served only for requests to this host.
    '-public-host',
    `127.0.0.1:${port}`,
    // Resumable uploads answer with this URL in Location.
    '-external-url',
    url,
    '-backend',
    backend,
    ...(backend === 'filesystem' ? ['-filesystem-root', join(dir, 'data')] : []),
    '-log-level',
    logLevel,
  ];
  const process = startProcess(bin, args, { logFile: join(dir, 'fake-gcs-server.log') });
  let exited = false;
  void process.exited.then(() => (exited = true));
  try {
    await waitFor(
      `fake-gcs-server on ${url}`,
      async () => {
        if (exited) throw new Error(`it exited; see ${join(dir, 'fake-gcs-server.log')}`);
        return (await fetch(`${url}/_internal/healthcheck`)).ok;
      },
      30_000,
      100,
    );
  } catch (err) {
    await process.stop();
    throw err;
  }
  return { process, port, url };
}

async function checked(response: Promise<Response>, what: string, accept: number[] = []): Promise<void> {
  const r = await response;
  if (!r.ok && !accept.includes(r.status)) throw new Error(`fake-gcs-server: ${what} answered ${r.status}: ${await r.text()}`);
  await r.body?.cancel();
}

/** Starts fake-gcs-server (built from the Go module proxy on first use). Call `stop()` when done. */
export async function startFakeGcs(options: FakeGcsOptions = {}): Promise<FakeGcs> {
  const bin = await ensureTool('fake-gcs-server');
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-fake-gcs-'));
  const backend = options.backend ?? 'memory';
  let started: Awaited<ReturnType<typeof launch>> | undefined;
  let lastError: unknown;
  // The free port may be taken between choosing it and binding it: try a few.
  for (let attempt = 0; attempt < 3 && started === undefined; attempt++) {
    try {
      started = await launch(bin, dir, backend, options.logRequests ? 'info' : 'warn');
    } catch (err) {
      lastError = err;
    }
  }
  if (started === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { process, port, url } = started;
  const api = `${url}/storage/v1`;
  const gcs: FakeGcs = {
    url,
    port,
    dir,
    logFile: join(dir, 'fake-gcs-server.log'),
    async createBucket(name) {
      await checked(fetch(`${api}/b?project=opendepot-test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) }), `creating bucket ${name}`, [409]);
    },
    async listObjects(bucket, prefix) {
      const names: string[] = [];
      let pageToken: string | undefined;
      do {
        const query = new URLSearchParams({ ...(prefix !== undefined && { prefix }), ...(pageToken !== undefined && { pageToken }) });
        const r = await fetch(`${api}/b/${encodeURIComponent(bucket)}/o?${query}`);
        if (!r.ok) throw new Error(`fake-gcs-server: listing ${bucket} answered ${r.status}: ${await r.text()}`);
        const page = (await r.json()) as { items?: { name: string }[]; nextPageToken?: string };
        names.push(...(page.items ?? []).map((item) => item.name));
        pageToken = page.nextPageToken || undefined;
      } while (pageToken !== undefined);
      return names;
    },
    async emptyBucket(bucket) {
      for (const name of await gcs.listObjects(bucket)) {
        await checked(fetch(`${api}/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`, { method: 'DELETE' }), `deleting ${name}`, [404]);
      }
    },
    async stop() {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const bucket of options.buckets ?? []) await gcs.createBucket(bucket);
  } catch (err) {
    await gcs.stop();
    throw err;
  }
  return gcs;
}

/** RFC 3986 encoding, as the V4 canonical query string needs. */
function encodeStrict(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What a V4 signed URL says about itself. */
export interface GcsSignedUrlParts {
  /** The service account it claims to be signed by. */
  credentialEmail: string;
  signedAt: Date;
  /** `X-Goog-Expires`: seconds from `signedAt` until it lapses. */
  expiresSeconds: number;
}

/** Reads the V4 parameters of a signed URL; throws when one is missing or malformed. */
export function gcsSignedUrlParts(signedUrl: string | URL): GcsSignedUrlParts {
  const p = new URL(signedUrl).searchParams;
  for (const name of ['X-Goog-Algorithm', 'X-Goog-Credential', 'X-Goog-Date', 'X-Goog-Expires', 'X-Goog-SignedHeaders', 'X-Goog-Signature']) {
    if (!p.has(name)) throw new Error(`signed URL lacks ${name}`);
  }
  if (p.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') throw new Error(`unexpected algorithm ${p.get('X-Goog-Algorithm')}`);
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(p.get('X-Goog-Date')!);
  if (!m) throw new Error(`bad X-Goog-Date ${p.get('X-Goog-Date')}`);
  return {
    credentialEmail: p.get('X-Goog-Credential')!.split('/')[0]!,
    signedAt: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`),
    expiresSeconds: Number(p.get('X-Goog-Expires')),
  };
}

/**
 * Whether `signedUrl` carries a valid V4 signature by `publicKey` for a GET of exactly its path
 * and query, checked the way Cloud Storage does (canonical request, RSA-SHA256). fake-gcs-server
 * checks neither signatures nor expiry, so tests check signatures with this. Only URLs that sign
 * the host header alone are understood; the host is taken without its port, as the Node client
 * signs it (the same on Google's default port).
 */
export function hasValidGcsV4Signature(signedUrl: string, publicKey: KeyObject): boolean {
  const url = new URL(signedUrl);
  const p = url.searchParams;
  const signature = p.get('X-Goog-Signature') ?? '';
  if (p.get('X-Goog-SignedHeaders') !== 'host') throw new Error(`only URLs signing the host header are understood, not ${p.get('X-Goog-SignedHeaders')}`);
  const query = [...p.entries()]
    .filter(([k]) => k !== 'X-Goog-Signature')
    .map(([k, v]) => [encodeStrict(k), encodeStrict(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', url.pathname, query, `host:${url.hostname}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const credential = p.get('X-Goog-Credential') ?? '';
  const scope = credential.slice(credential.indexOf('/') + 1);
  const stringToSign = ['GOOG4-RSA-SHA256', p.get('X-Goog-Date'), scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  return /^[0-9a-f]+$/.test(signature) && verify('sha256', Buffer.from(stringToSign), publicKey, Buffer.from(signature, 'hex'));
}
