/**
 * MinIO, a real S3 implementation, on a free loopback port over plain HTTP, with a temporary
 * data directory and explicit root credentials. It checks SigV4 signatures and the expiry
 * (`X-Amz-Expires`) of presigned URLs. Its own few admin calls (create a bucket, list, empty)
 * are signed here with a small SigV4 signer, so the test bed needs no AWS SDK.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

/** Options of {@link startMinio}. */
export interface MinioOptions {
  /** Buckets to create once it is up. */
  buckets?: string[];
  /** Address to listen on; default 127.0.0.1 (the cluster suite uses the node's bridge address, so pods reach it). */
  host?: string;
}

/** A running MinIO. */
export interface Minio {
  /** `http://127.0.0.1:<port>` (or the chosen host): the S3 endpoint (use path-style addressing). */
  endpoint: string;
  port: number;
  /** The region MinIO answers for. */
  region: string;
  /** Root credentials, random per start. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Directory with its log (`minio.log`) and its data (`data/`). */
  dir: string;
  /** Creates a bucket (idempotent). */
  createBucket(name: string): Promise<void>;
  /** Keys of the objects in `bucket` under `prefix` (every page). */
  listObjects(bucket: string, prefix?: string): Promise<string[]>;
  /** Keys of the multipart uploads in `bucket` that were neither completed nor aborted. */
  listMultipartUploads(bucket: string): Promise<string[]>;
  /** Deletes every object in `bucket`, keeping the bucket. */
  emptyBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/** RFC 3986 encoding, as SigV4 canonical requests want it. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** A SigV4-signed request to MinIO with an empty body. */
async function signedFetch(
  credentials: { endpoint: string; accessKeyId: string; secretAccessKey: string },
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  query: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(credentials.endpoint);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex('');
  const canonicalUri = path.split('/').map(encodeRfc3986).join('/');
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${encodeRfc3986(k)}=${encodeRfc3986(query[k]!)}`)
    .join('&');
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const signedHeaders = Object.keys(headers).join(';');
  const canonicalHeaders = Object.entries(headers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), REGION), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return fetch(`${credentials.endpoint}${canonicalUri}${canonicalQuery ? `?${canonicalQuery}` : ''}`, {
    method,
    headers: {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  });
}

/** The text of every `<tag>…</tag>` inside each `<parent>…</parent>` of an S3 XML answer. */
function xmlValues(xml: string, parent: string, tag: string): string[] {
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  return [...xml.matchAll(new RegExp(`<${parent}>([\\s\\S]*?)</${parent}>`, 'g'))].flatMap((m) => [...m[1]!.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((t) => decode(t[1]!)));
}

async function launch(bin: string, dir: string, credentials: { accessKeyId: string; secretAccessKey: string }, host: string): Promise<{ process: ManagedProcess; port: number; endpoint: string }> {
  const [port, consolePort] = [await freePort(), await freePort()];
  const endpoint = `http://${host}:${port}`;
  const env = {
    ...process.env,
    MINIO_ROOT_USER: credentials.accessKeyId,
    MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
    // Smaller buffer pool, no root-drive checks; no update checks, console or telemetry off loopback.
    MINIO_CI_CD: '1',
    MINIO_BROWSER: 'off',
    MINIO_UPDATE: 'off',
    MINIO_REGION: REGION,
  };
  const args = ['server', '--quiet', '--address', `${host}:${port}`, '--console-address', `127.0.0.1:${consolePort}`, join(dir, 'data')];
  const child = startProcess(bin, args, { logFile: join(dir, 'minio.log'), env });
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    await waitFor(
      `MinIO on ${endpoint}`,
      async () => {
        if (exited) throw new Error(`it exited; see ${join(dir, 'minio.log')}`);
        // live: the HTTP server is up; cluster: the object layer is initialised and can serve.
        return (await fetch(`${endpoint}/minio/health/live`)).ok && (await fetch(`${endpoint}/minio/health/cluster`)).ok;
      },
      60_000,
      100,
    );
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { process: child, port, endpoint };
}

/** Starts MinIO (built from the Go module proxy on first use). Call `stop()` when done. */
export async function startMinio(options: MinioOptions = {}): Promise<Minio> {
  const bin = await ensureTool('minio');
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-minio-'));
  const credentials = { accessKeyId: `opendepot${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(20).toString('hex') };
  let started: Awaited<ReturnType<typeof launch>> | undefined;
  let lastError: unknown;
  // The free port may be taken between choosing it and binding it: try a few.
  for (let attempt = 0; attempt < 3 && started === undefined; attempt++) {
    try {
      started = await launch(bin, dir, credentials, options.host ?? '127.0.0.1');
    } catch (err) {
      lastError = err;
    }
  }
  if (started === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { process: child, port, endpoint } = started;
  const signed = (method: 'GET' | 'PUT' | 'DELETE', path: string, query?: Record<string, string>) => signedFetch({ endpoint, ...credentials }, method, path, query);
  const checked = async (response: Promise<Response>, what: string, accept: number[] = []): Promise<string> => {
    const r = await response;
    const text = await r.text();
    if (!r.ok && !accept.includes(r.status)) throw new Error(`MinIO: ${what} answered ${r.status}: ${text}`);
    return text;
  };
  const minio: Minio = {
    endpoint,
    port,
    region: REGION,
    ...credentials,
    dir,
    async createBucket(name) {
      // A MinIO still starting up under load may answer 503 XMinioServerNotInitialized for a
      // moment: retried. 409 BucketAlreadyOwnedByYou: it exists already.
      for (let attempt = 1; ; attempt++) {
        const r = await signed('PUT', `/${name}`);
        const text = await r.text();
        if (r.ok || r.status === 409) return;
        if (r.status !== 503 || attempt === 50) throw new Error(`MinIO: creating bucket ${name} answered ${r.status}: ${text}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async listObjects(bucket, prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const xml = await checked(signed('GET', `/${bucket}`, { 'list-type': '2', prefix, ...(token !== undefined && { 'continuation-token': token }) }), `listing ${bucket}`);
        keys.push(...xmlValues(xml, 'Contents', 'Key'));
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? xmlValues(xml, 'ListBucketResult', 'NextContinuationToken')[0] : undefined;
      } while (token !== undefined);
      return keys;
    },
    async listMultipartUploads(bucket) {
      return xmlValues(await checked(signed('GET', `/${bucket}`, { uploads: '' }), `listing the multipart uploads of ${bucket}`), 'Upload', 'Key');
    },
    async emptyBucket(bucket) {
      for (const key of await minio.listObjects(bucket)) {
        await checked(signed('DELETE', `/${bucket}/${key}`), `deleting ${key}`, [404]);
      }
    },
    async stop() {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const bucket of options.buckets ?? []) await minio.createBucket(bucket);
  } catch (err) {
    await minio.stop();
    throw err;
  }
  return minio;
}
