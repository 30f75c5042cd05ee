/** The Azure Blob StorageBackend: block blobs in one container, SAS URLs for downloads. */
import type { Readable } from 'node:stream';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlobDownloadResponseParsed,
  type BlobGetPropertiesResponse,
  type BlockBlobClient,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import {
  checkPutOptions,
  checkRange,
  InputError,
  normalisePrefix,
  recordedSha256,
  UnavailableError,
  type GetOptions,
  type Logger,
  type ObjectInfo,
  type PresignedUrl,
  type PresignOptions,
  type PutOptions,
  type RequestOptions,
  type StorageBackend,
  type StorageCapabilities,
} from '@opendepot/sdk';
import type { AzureAuth } from './credentials.ts';
import { statusOf, toStorageError, type Operation } from './errors.ts';
import { checkAccountUrl } from './hosts.ts';
import { blobNameOf } from './keys.ts';
import { sharedKeySigner, userDelegationSigner, type SasSigner } from './presign.ts';
import { uploadBlocks } from './upload.ts';

/** Default block size: 4 MiB blocks, four in flight, keep a put at roughly 20 MiB of buffers. */
const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
/** How often a download that breaks off resumes (pinned to the same blob version by ETag). */
const DOWNLOAD_RESUMES = 3;
/** How often a get retries when the blob is replaced between reading its properties and opening it. */
const MAX_GET_ATTEMPTS = 5;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** Options of {@link AzureBlobStorage}. */
export interface AzureBlobStorageOptions {
  /** Blob service URL of the account, e.g. `https://acct.blob.core.windows.net` (Azurite: `https://127.0.0.1:10000/devstoreaccount1`). */
  accountUrl: string;
  accountName: string;
  /** An existing container. */
  container: string;
  /** Hosts besides Azure's blob hosts that `accountUrl` may name (see hosts.ts). Default: none. */
  allowedEndpointHosts?: readonly string[];
  auth: AzureAuth;
  /** Keys are stored under this blob name prefix, e.g. `opendepot/`. Default: none. */
  prefix?: string;
  logger?: Logger;
  /** Milliseconds since the epoch, for SAS expiry. Default `Date.now`. */
  now?: () => number;
  /** Smallest block of a put. Default 4 MiB. */
  blockBytes?: number;
  /** Blocks of one put staged at once. Default 4. */
  concurrency?: number;
  /** Passed to the SDK (retries, proxy, user agent). Default: 4 tries with exponential backoff from 0.8 s. */
  pipeline?: StoragePipelineOptions;
}

/**
 * Objects as block blobs. Puts stage blocks while hashing and commit the block list only after
 * the hash matched, so nothing partial or wrong is ever visible; the SHA-256 is blob metadata,
 * which `stat` reads from the blob's properties. `presign` makes read-only SAS URLs for one blob
 * when the credentials can sign (account key or Entra ID, not a SAS token).
 */
export class AzureBlobStorage implements StorageBackend {
  readonly capabilities: StorageCapabilities;
  /** The container's client (for tests and tools). */
  readonly container: ContainerClient;
  readonly #containerName: string;
  readonly #prefix: string;
  readonly #signer: SasSigner | undefined;
  readonly #now: () => number;
  readonly #blockBytes: number;
  readonly #concurrency: number;

  constructor(options: AzureBlobStorageOptions) {
    const accountUrl = options.accountUrl.replace(/\/+$/, '');
    checkAccountUrl(accountUrl, options.allowedEndpointHosts ?? [], 'azureBlob');
    this.#prefix = normalisePrefix(options.prefix);
    this.#containerName = options.container;
    this.#now = options.now ?? Date.now;
    this.#blockBytes = positive(options.blockBytes ?? DEFAULT_BLOCK_BYTES, 'blockBytes');
    this.#concurrency = positive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency');
    const pipeline: StoragePipelineOptions = {
      retryOptions: { maxTries: 4, retryDelayInMs: 800, maxRetryDelayInMs: 15_000 },
      userAgentOptions: { userAgentPrefix: 'opendepot-plugin-azure' },
      ...options.pipeline,
    };
    const { auth } = options;
    let service: BlobServiceClient;
    switch (auth.kind) {
      case 'shared-key':
        service = new BlobServiceClient(accountUrl, new StorageSharedKeyCredential(options.accountName, auth.accountKey), pipeline);
        this.#signer = sharedKeySigner(options.accountName, auth.accountKey);
        break;
      case 'token':
        service = new BlobServiceClient(accountUrl, auth.credential, pipeline);
        this.#signer = userDelegationSigner(options.accountName, service);
        break;
      case 'sas':
        service = new BlobServiceClient(`${accountUrl}?${auth.sasToken}`, new AnonymousCredential(), pipeline);
        this.#signer = undefined;
        break;
    }
    this.container = service.getContainerClient(options.container);
    this.capabilities = { presign: this.#signer !== undefined };
    (options.logger ?? silent).debug('azure blob storage client made', { accountUrl, container: options.container, auth: auth.kind, presign: this.capabilities.presign });
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    const blob = this.#blob(key);
    const { signal } = options;
    const { sha256: expected, size } = checkPutOptions(options);
    try {
      const written = await uploadBlocks(blob, body, {
        key,
        blockBytes: this.#blockBytes,
        concurrency: this.#concurrency,
        size,
        expectedSha256: expected,
        contentType: options.contentType,
        signal,
      });
      return { key, size: written.size, sha256: written.sha256, ...(written.lastModified && { modifiedAt: written.lastModified }) };
    } catch (err) {
      throw this.#error(err, 'put', key, signal);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<{ body: NodeJS.ReadableStream & AsyncIterable<Uint8Array>; info: ObjectInfo }> {
    const blob = this.#blob(key);
    const { offset, count } = rangeOf(options.range);
    const { signal } = options;
    signal?.throwIfAborted();
    let opened: { properties: BlobGetPropertiesResponse; download: BlobDownloadResponseParsed } | undefined;
    try {
      // The info comes from the properties and the body from a download pinned to their ETag,
      // so they describe the same version of the blob even where a download's own headers
      // may be read after a concurrent commit (Azurite's are). A commit in between: try again.
      for (let attempt = 1; opened === undefined; attempt++) {
        const properties = await blob.getProperties(signal ? { abortSignal: signal } : {});
        try {
          const download = await blob.download(offset, count, {
            conditions: { ifMatch: properties.etag! },
            maxRetryRequests: DOWNLOAD_RESUMES,
            ...(signal && { abortSignal: signal }),
          });
          opened = { properties, download };
        } catch (err) {
          if (statusOf(err) !== 412 || attempt >= MAX_GET_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      if (statusOf(err) === 412) throw new UnavailableError(`get ${key}: the object kept being replaced while it was being opened`, { cause: err });
      throw this.#error(err, 'get', key, signal);
    }
    const { properties, download } = opened;
    const body = download.readableStreamBody as Readable | undefined;
    if (body === undefined) throw new Error(`get ${key}: the download has no body`);
    if (signal !== undefined) {
      // Fail the stream at once with the signal's reason, whatever the SDK does about the socket.
      const onAbort = (): void => void body.destroy(signal.reason);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        body.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    return { body, info: infoOf(key, properties.contentLength ?? 0, properties.metadata, properties.lastModified) };
  }

  async stat(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const blob = this.#blob(key);
    const { signal } = options;
    signal?.throwIfAborted();
    try {
      const properties = await blob.getProperties(signal ? { abortSignal: signal } : {});
      return infoOf(key, properties.contentLength ?? 0, properties.metadata, properties.lastModified);
    } catch (err) {
      throw this.#error(err, 'stat', key, signal);
    }
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    const blob = this.#blob(key);
    const { signal } = options;
    signal?.throwIfAborted();
    try {
      await blob.delete({ deleteSnapshots: 'include', ...(signal && { abortSignal: signal }) });
    } catch (err) {
      const mapped = this.#error(err, 'delete', key, signal);
      if ((mapped as { code?: unknown }).code === 'not_found') return; // already gone
      throw mapped;
    }
  }

  async presign(key: string, options: PresignOptions): Promise<PresignedUrl> {
    const blob = this.#blob(key);
    if (this.#signer === undefined) {
      throw new InputError('these Azure credentials (a SAS token) cannot sign download URLs', {
        hint: 'Use an account key or a Microsoft Entra identity with the Storage Blob Delegator role, or turn presign off.',
      });
    }
    try {
      return await this.#signer.sign({
        container: this.#containerName,
        blobName: blob.name,
        blobUrl: blob.url,
        ttlSeconds: options.ttlSeconds,
        filename: options.filename,
        now: this.#now(),
      });
    } catch (err) {
      throw this.#error(err, 'presign', key, undefined);
    }
  }

  #blob(key: string): BlockBlobClient {
    return this.container.getBlockBlobClient(blobNameOf(this.#prefix, key));
  }

  #error(err: unknown, operation: Operation, key: string, signal: AbortSignal | undefined): unknown {
    return toStorageError(err, { operation, key, container: this.#containerName, signal });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new InputError(`${name} must be a positive integer, got ${value}`, { field: name });
  return value;
}

function infoOf(key: string, size: number, metadata: Record<string, string> | undefined, lastModified: Date | undefined): ObjectInfo {
  // A blob written by something else has no checksum: '' says "unknown", and the server then relies on the Version's.
  const sha256 = recordedSha256(metadata?.sha256);
  return { key, size, sha256, ...(lastModified && { modifiedAt: lastModified }) };
}

/** An inclusive HTTP-style range as the SDK's offset and count. */
function rangeOf(given: GetOptions['range']): { offset: number; count: number | undefined } {
  const range = checkRange(given);
  if (range === undefined) return { offset: 0, count: undefined };
  const { start, end } = range;
  return { offset: start, count: end === undefined ? undefined : end - start + 1 };
}
