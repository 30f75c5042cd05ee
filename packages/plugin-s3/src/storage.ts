/** `S3Storage`: the `StorageBackend` on Amazon S3 or an S3-compatible service. */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  checkPutOptions,
  checkRange,
  InputError,
  recordedSha256,
  UnavailableError,
  verifySha256,
  type GetOptions,
  type Logger,
  type ObjectInfo,
  type PresignedUrl,
  type PresignOptions,
  type PutOptions,
  type RequestOptions,
  type StorageBackend,
  type StorageCapabilities,
  type SweepOptions,
  type SweepResult,
} from '@opendepot/sdk';
import type { S3StorageConfig } from './config.ts';
import type { S3CredentialsProvider } from './credentials.ts';
import { checkEndpoint, guardRequestHosts } from './hosts.ts';
import { KeyMapper } from './keys.ts';
import { MAX_PARTS, multipartUpload } from './multipart.ts';
import { toContractError } from './s3-errors.ts';
import { abortable, hashedBody, readAhead, StreamHasher } from './streams.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The longest validity S3 allows for a SigV4 presigned URL: 7 days. */
export const MAX_PRESIGN_TTL_SECONDS = 7 * 24 * 3600;
/** Where the checksum is kept: the object's `x-amz-meta-sha256`. */
const SHA256_METADATA = 'sha256';

/** Options of {@link S3Storage} beyond the config: tuning and the host's pieces. */
export interface S3StorageOptions {
  /** Credentials; unset means the standard AWS credential chain. */
  credentials?: S3CredentialsProvider;
  logger?: Logger;
  /** Milliseconds since the epoch; presigned URLs are signed at this time. Default `Date.now`. */
  now?: () => number;
  /**
   * Bodies up to this size are sent in one PutObject; larger ones as a multipart upload with
   * parts of this size (larger when `PutOptions.size` needs it). At least 5 MiB. Default 8 MiB.
   */
  partSizeBytes?: number;
  /** Parts uploaded at the same time. A put holds at most `(queueSize + 1) × partSizeBytes` of the body in memory. Default 3. */
  queueSize?: number;
  /** Largest object copied with one CopyObject; larger ones are copied part by part. Default 5 GiB (S3's limit). */
  maxSingleCopyBytes?: number;
  /** Part size of a part-by-part copy. Default 512 MiB. */
  copyPartBytes?: number;
  /** Extra S3 client settings, merged last (e.g. a custom `requestHandler`). */
  clientConfig?: S3ClientConfig;
}

/**
 * Objects in one bucket under one prefix. Every object carries its SHA-256 as metadata
 * (`x-amz-meta-sha256`), so `stat` is one HEAD request.
 *
 * How a put stays atomic and checked:
 * - a body of at most one part is read into memory and hashed first, then sent as one
 *   PutObject (with `ChecksumSHA256`, so the store verifies the bytes it received);
 * - a larger body with a known `PutOptions.sha256` is a multipart upload straight to the key,
 *   completed only once the streamed content hashed to it (otherwise it is aborted);
 * - a larger body of unknown checksum is uploaded under `<prefix>.opendepot-uploads/<uuid>`, then copied
 *   server-side to the key with the checksum it turned out to have, and the upload deleted:
 *   S3 metadata can only be set when an object is created.
 */
export class S3Storage implements StorageBackend {
  readonly capabilities: StorageCapabilities = { presign: true };
  readonly bucket: string;
  readonly client: S3Client;
  readonly #keys: KeyMapper;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #maxSingleCopy: number;
  readonly #copyPartSize: number;

  constructor(config: S3StorageConfig, options: S3StorageOptions = {}) {
    this.bucket = config.bucket;
    this.#keys = new KeyMapper(config.prefix);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#partSize = options.partSizeBytes ?? 8 * MiB;
    this.#queueSize = options.queueSize ?? 3;
    this.#maxSingleCopy = options.maxSingleCopyBytes ?? 5 * GiB;
    this.#copyPartSize = options.copyPartBytes ?? 512 * MiB;
    if (this.#partSize < 5 * MiB) throw new RangeError('partSizeBytes must be at least 5 MiB (S3 minimum part size)');
    if (this.#copyPartSize < 5 * MiB || this.#copyPartSize > 5 * GiB) throw new RangeError('copyPartBytes must be between 5 MiB and 5 GiB');
    const allowed = config.allowedEndpointHosts ?? [];
    checkEndpoint(config.endpoint, allowed, 's3');
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
      forcePathStyle: config.forcePathStyle ?? false,
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      ...options.clientConfig,
    });
    guardRequestHosts(this.client, { endpoint: config.endpoint, bucket: config.bucket, allowed });
  }

  /** The configured prefix, normalised (empty, or ending in `/`). */
  get prefix(): string {
    return this.#keys.prefix;
  }

  /** Checks that the bucket exists and the credentials may use it (one HEAD request). */
  async verifyBucket(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { ...(signal && { abortSignal: signal }) });
    } catch (err) {
      // HEAD answers without a body, so a 404 is all S3 says about a missing bucket.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        throw new UnavailableError(`S3 bucket ${this.bucket} does not exist`, { cause: err, hint: 'Create the bucket, or correct bucket (and endpoint) in the s3 storage config.' });
      }
      throw toContractError(err, `access to bucket ${this.bucket}`, signal);
    }
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    const objectKey = this.#keys.objectKey(key);
    const { signal } = options;
    const { sha256: expected } = checkPutOptions(options);
    signal?.throwIfAborted();
    const hasher = new StreamHasher();
    const source = abortable(body, signal);
    const what = `put of ${JSON.stringify(key)}`;
    try {
      const head = await readAhead(source, this.#partSize, hasher);
      const common = { contentType: options.contentType, signal };
      if (head.ended) {
        // Everything is in memory and hashed: refuse a mismatch before sending anything.
        verifySha256(key, expected, hasher.hex());
        await this.#putSmall(objectKey, Buffer.concat(head.chunks, head.size), hasher.hex(), common);
        return { key, size: hasher.size, sha256: hasher.hex() };
      }
      const partSize = Math.max(this.#partSize, Math.ceil((options.size ?? 0) / MAX_PARTS));
      const rest = hashedBody(head.chunks, source, hasher);
      if (expected !== undefined) {
        // Completed only once the whole body hashed to the expected checksum.
        await this.#multipart(objectKey, rest, { ...common, partSize, sha256: expected, beforeComplete: () => verifySha256(key, expected, hasher.hex()) });
        return { key, size: hasher.size, sha256: expected };
      }
      const uploadKey = this.#keys.uploadKey(randomUUID());
      try {
        const uploaded = await this.#multipart(uploadKey, rest, { ...common, partSize });
        signal?.throwIfAborted();
        await this.#copyIntoPlace(uploadKey, uploaded.etag, objectKey, hasher.size, hasher.hex(), common);
      } finally {
        await this.#deleteQuietly(uploadKey);
      }
      return { key, size: hasher.size, sha256: hasher.hex() };
    } catch (err) {
      throw toContractError(err, what, signal);
    } finally {
      // Closes the body on failure; not awaited, since a stalled body would never answer.
      void source.return(undefined).catch(() => undefined);
    }
  }

  async get(key: string, options: GetOptions = {}): ReturnType<StorageBackend['get']> {
    const objectKey = this.#keys.objectKey(key);
    const { signal } = options;
    const range = checkRange(options.range);
    signal?.throwIfAborted();
    let response;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          ...(range !== undefined && { Range: `bytes=${range.start}-${range.end ?? ''}` }),
        }),
        { ...(signal && { abortSignal: signal }) },
      );
    } catch (err) {
      throw toContractError(err, `get of ${JSON.stringify(key)}`, signal);
    }
    const stream = response.Body as Readable | undefined;
    if (stream === undefined) throw toContractError(new Error('the response has no body'), `get of ${JSON.stringify(key)}`);
    if (signal !== undefined) destroyOnAbort(stream, signal);
    const size = range === undefined ? (response.ContentLength ?? 0) : (totalOf(response.ContentRange) ?? response.ContentLength ?? 0);
    return { body: stream, info: this.#info(key, size, response.Metadata, response.LastModified) };
  }

  async stat(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const objectKey = this.#keys.objectKey(key);
    options.signal?.throwIfAborted();
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }), {
        ...(options.signal && { abortSignal: options.signal }),
      });
      return this.#info(key, head.ContentLength ?? 0, head.Metadata, head.LastModified);
    } catch (err) {
      throw toContractError(err, `stat of ${JSON.stringify(key)}`, options.signal);
    }
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    const objectKey = this.#keys.objectKey(key);
    options.signal?.throwIfAborted();
    try {
      // S3 answers 204 whether or not the object existed.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }), {
        ...(options.signal && { abortSignal: options.signal }),
      });
    } catch (err) {
      throw toContractError(err, `delete of ${JSON.stringify(key)}`, options.signal);
    }
  }

  /**
   * Removes what killed puts left under the prefix: multipart uploads never completed or aborted
   * (their parts are billed until then) and uploads of unknown checksum never copied into place,
   * when they started at least `olderThanMs` ago. A bucket lifecycle rule
   * (AbortIncompleteMultipartUpload) is still worth having for prefixes no operator starts on.
   */
  async sweepTemporaries(options: SweepOptions): Promise<SweepResult> {
    const cutoff = this.#now() - options.olderThanMs;
    const request = { ...(options.signal && { abortSignal: options.signal }) };
    const removed: string[] = [];
    try {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = await this.client.send(
          // No Prefix parameter: MinIO lists only the uploads of the one object a prefix names.
          new ListMultipartUploadsCommand({ Bucket: this.bucket, ...(keyMarker && { KeyMarker: keyMarker }), ...(uploadIdMarker && { UploadIdMarker: uploadIdMarker }) }),
          request,
        );
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key?.startsWith(this.prefix) || !upload.UploadId || (upload.Initiated?.getTime() ?? 0) > cutoff) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }), request);
          removed.push(`multipart upload of ${upload.Key}`);
        }
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
      for (const folder of this.#keys.uploadFolders()) {
        let token: string | undefined;
        do {
          const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder.prefix, ...(token && { ContinuationToken: token }) }), request);
          for (const object of page.Contents ?? []) {
            if (!object.Key || !folder.isLeftover(object.Key) || (object.LastModified?.getTime() ?? 0) > cutoff) continue;
            await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }), request);
            removed.push(object.Key);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
    } catch (err) {
      throw toContractError(err, `sweeping leftovers of interrupted uploads under ${JSON.stringify(this.prefix)}`, options.signal);
    }
    if (removed.length > 0) this.#logger?.info('removed leftovers of interrupted uploads', { bucket: this.bucket, removed });
    return { removed };
  }

  /**
   * A SigV4 presigned GET of this one object (the signature covers bucket and key), valid for
   * `ttlSeconds` (at most 7 days, and never longer than temporary credentials last). Signing
   * is local: no request is made, so it does not check that the object exists.
   */
  async presign(key: string, options: PresignOptions): Promise<PresignedUrl> {
    const objectKey = this.#keys.objectKey(key);
    const ttl = Math.floor(options.ttlSeconds);
    if (!Number.isFinite(options.ttlSeconds) || ttl < 1 || ttl > MAX_PRESIGN_TTL_SECONDS) {
      throw new InputError(`presign ttl must be between 1 second and 7 days (S3's limit), got ${options.ttlSeconds} s`, { field: 'ttl' });
    }
    const signingDate = new Date(this.#now());
    try {
      const url = await getSignedUrl(
        this.client,
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          ...(options.filename !== undefined && { ResponseContentDisposition: contentDisposition(options.filename) }),
        }),
        { expiresIn: ttl, signingDate },
      );
      return { url, expiresAt: new Date(signingDate.getTime() + ttl * 1000) };
    } catch (err) {
      throw toContractError(err, `presign of ${JSON.stringify(key)}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  #info(key: string, size: number, metadata: Record<string, string> | undefined, modifiedAt: Date | undefined): ObjectInfo {
    // An object written by something else has no checksum: reported as '' (unknown).
    const sha256 = recordedSha256(metadata?.[SHA256_METADATA]);
    return { key, size, sha256, ...(modifiedAt !== undefined && { modifiedAt }) };
  }

  async #putSmall(objectKey: string, bytes: Buffer, sha256: string, options: { contentType: string | undefined; signal: AbortSignal | undefined }): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: bytes,
        ContentLength: bytes.byteLength,
        Metadata: { [SHA256_METADATA]: sha256 },
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        ...(options.contentType !== undefined && { ContentType: options.contentType }),
      }),
      { ...(options.signal && { abortSignal: options.signal }) },
    );
  }

  /** Streams `body` as a multipart upload to `objectKey`; see {@link multipartUpload}. */
  #multipart(
    objectKey: string,
    body: AsyncIterable<Buffer>,
    options: { contentType: string | undefined; signal: AbortSignal | undefined; partSize: number; sha256?: string; beforeComplete?: () => void },
  ): Promise<{ etag: string | undefined }> {
    return multipartUpload(body, {
      client: this.client,
      bucket: this.bucket,
      key: objectKey,
      partSize: options.partSize,
      queueSize: this.#queueSize,
      contentType: options.contentType,
      signal: options.signal,
      logger: this.#logger,
      ...(options.sha256 !== undefined && { metadata: { [SHA256_METADATA]: options.sha256 } }),
      ...(options.beforeComplete !== undefined && { beforeComplete: options.beforeComplete }),
    });
  }

  /** Copies the finished upload to its key with its checksum as metadata: one atomic CopyObject, or part by part when big. */
  async #copyIntoPlace(
    uploadKey: string,
    etag: string | undefined,
    objectKey: string,
    size: number,
    sha256: string,
    options: { contentType: string | undefined; signal: AbortSignal | undefined },
  ): Promise<void> {
    const copySource = `${this.bucket}/${encodeKey(uploadKey)}`;
    const target = {
      Bucket: this.bucket,
      Key: objectKey,
      Metadata: { [SHA256_METADATA]: sha256 },
      ...(options.contentType !== undefined && { ContentType: options.contentType }),
    };
    const request = { ...(options.signal && { abortSignal: options.signal }) };
    if (size <= this.#maxSingleCopy) {
      await this.client.send(new CopyObjectCommand({ ...target, CopySource: copySource, MetadataDirective: 'REPLACE', ...(etag && { CopySourceIfMatch: etag }) }), request);
      return;
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand(target), request);
    try {
      const partSize = Math.max(this.#copyPartSize, Math.ceil(size / MAX_PARTS));
      const ranges: Array<{ partNumber: number; start: number; end: number }> = [];
      for (let start = 0, n = 1; start < size; start += partSize, n++) ranges.push({ partNumber: n, start, end: Math.min(size, start + partSize) - 1 });
      const parts: CompletedPart[] = [];
      const copyParts = async (): Promise<void> => {
        for (let r = ranges.shift(); r !== undefined; r = ranges.shift()) {
          const out = await this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: objectKey,
              UploadId,
              PartNumber: r.partNumber,
              CopySource: copySource,
              CopySourceRange: `bytes=${r.start}-${r.end}`,
              ...(etag && { CopySourceIfMatch: etag }),
            }),
            request,
          );
          parts.push({ PartNumber: r.partNumber, ETag: out.CopyPartResult?.ETag });
        }
      };
      const workers = Array.from({ length: Math.min(this.#queueSize, ranges.length) }, () =>
        copyParts().catch((err: unknown) => {
          ranges.length = 0; // the other workers stop after their current part
          throw err;
        }),
      );
      const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId, MultipartUpload: { Parts: parts } }), request);
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId }))
        .catch((abortErr: unknown) => this.#logger?.warn('could not abort a multipart copy; its parts stay until a lifecycle rule removes them', { key: objectKey, err: String(abortErr) }));
      throw err;
    }
  }

  async #deleteQuietly(objectKey: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (err) {
      this.#logger?.warn('could not delete a finished upload; a lifecycle rule on the .opendepot-uploads/ prefix removes leftovers', { key: objectKey, err: String(err) });
    }
  }
}

/** Makes the response stream fail with the signal's reason when it aborts mid-read. */
function destroyOnAbort(stream: Readable, signal: AbortSignal): void {
  const onAbort = (): void => void stream.destroy(signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError', cause: signal.reason }));
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}

/** The total size in a `Content-Range: bytes a-b/total` header. */
function totalOf(contentRange: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return match ? Number(match[1]) : undefined;
}

/** `attachment; filename="…"`, with characters that would break the header replaced. */
function contentDisposition(filename: string): string {
  const safe = filename.replace(/["\\\r\n]/g, '_').replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${safe}"`;
}

/** A key as the `x-amz-copy-source` header wants it: each segment URL-encoded. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
