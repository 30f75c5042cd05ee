/**
 * A streaming multipart upload with a fixed pool of part buffers: memory is at most
 * `(queueSize + 1) × partSize` however big the object, and the same buffers are reused for
 * every part, so the process's resident memory stays flat.
 */
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, type CompletedPart, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@opendepot/sdk';

/** S3 refuses more parts than this in one multipart upload. */
export const MAX_PARTS = 10_000;

/** What {@link multipartUpload} needs. */
export interface MultipartUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Size of every part but the last; at least 5 MiB. */
  partSize: number;
  /** Parts uploaded at the same time. */
  queueSize: number;
  metadata?: Record<string, string>;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Called once the body has ended, before the upload is completed: throw to abort it instead,
   * so nothing becomes visible (e.g. when the content hashed differently than expected).
   */
  beforeComplete?: () => void;
  logger?: Logger | undefined;
}

/**
 * Uploads `body` as a multipart upload to `key` and completes it, which makes the object
 * visible at once. On any failure (the body, a part, an abort, `beforeComplete`) the multipart
 * upload is aborted, so its parts are discarded and nothing becomes visible. Resolves with the
 * object's ETag.
 */
export async function multipartUpload(body: AsyncIterable<Buffer>, options: MultipartUploadOptions): Promise<{ etag: string | undefined }> {
  const { client, bucket, key, partSize, queueSize } = options;
  // Aborts the in-flight parts when the caller aborts or a part fails.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const request = { abortSignal: stop.signal };
  let uploadId: string | undefined;
  /** Parts being uploaded; each settles (never rejects) when S3 has answered. */
  const inflight = new Set<Promise<void>>();
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ChecksumAlgorithm: 'CRC32',
        ...(options.metadata && { Metadata: options.metadata }),
        ...(options.contentType !== undefined && { ContentType: options.contentType }),
      }),
      request,
    );
    uploadId = created.UploadId;
    const parts: CompletedPart[] = [];
    const free: Buffer[] = [];
    let failure: { err: unknown } | undefined;
    let partNumber = 0;

    const send = (buffer: Buffer, length: number): void => {
      const number = ++partNumber;
      if (number > MAX_PARTS) throw new Error(`the object needs more than ${MAX_PARTS} parts of ${partSize} bytes`);
      const done = client
        .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: buffer.subarray(0, length), ChecksumAlgorithm: 'CRC32' }), request)
        .then(
          (out) => {
            parts.push({ PartNumber: number, ETag: out.ETag, ...(out.ChecksumCRC32 !== undefined && { ChecksumCRC32: out.ChecksumCRC32 }) });
            free.push(buffer); // reused only after S3 has answered for it
          },
          (err: unknown) => {
            failure ??= { err };
            stop.abort(err);
          },
        )
        .finally(() => inflight.delete(done));
      inflight.add(done);
    };
    /** A free part buffer, once fewer than `queueSize` parts are in flight. */
    const take = async (): Promise<Buffer> => {
      while (inflight.size >= queueSize) await Promise.race(inflight);
      if (failure !== undefined) throw failure.err;
      return free.pop() ?? Buffer.allocUnsafe(partSize);
    };

    let current = await take();
    let filled = 0;
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.byteLength; ) {
        const n = Math.min(partSize - filled, chunk.byteLength - offset);
        chunk.copy(current, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === partSize) {
          send(current, filled);
          current = await take();
          filled = 0;
        }
      }
      if (failure !== undefined) throw failure.err;
    }
    if (filled > 0 || partNumber === 0) send(current, filled);
    await Promise.all(inflight);
    if (failure !== undefined) throw failure.err;
    options.beforeComplete?.();
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    const completed = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), request);
    uploadId = undefined;
    return { etag: completed.ETag };
  } catch (err) {
    stop.abort(err);
    await Promise.allSettled([...inflight]);
    if (uploadId !== undefined) {
      // Not tied to the aborted signal: the parts must be discarded even after an abort.
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch((abortErr: unknown) => options.logger?.warn('could not abort a multipart upload; its parts stay until a lifecycle rule removes them', { key, err: String(abortErr) }));
    }
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
