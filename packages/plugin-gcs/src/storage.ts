/** `GcsStorage`: the StorageBackend over one bucket (and prefix) of Google Cloud Storage. */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Storage, type Bucket, type File, type FileMetadata, type StorageOptions } from '@google-cloud/storage';
import { GoogleAuth, JWT } from 'google-auth-library';
import {
  InputError,
  isOpenDepotError,
  NotFoundError,
  UnauthenticatedError,
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
import { checkPutOptions, checkRange, untilAborted, UPLOADS_FOLDER, verifySha256 } from '@opendepot/sdk';
import type { ServiceAccountKey } from './credentials.ts';
import { openDownload } from './download.ts';
import { httpStatusOf, toStorageError } from './errors.ts';
import { ObjectNames } from './names.ts';
import { SHA256_METADATA_KEY, storedObjectOf, type StoredObject } from './object-info.ts';
import { uploadTo, type Uploaded } from './upload.ts';

/** What {@link GcsStorage} needs. */
export interface GcsStorageOptions {
  bucket: string;
  prefix?: string | undefined;
  /** A GCS-compatible endpoint (emulator) or a private Google endpoint; unset means Google's public one. */
  endpoint?: string | undefined;
  /** A service account key; unset means the ambient chain (workload identity, metadata server). */
  credentials?: ServiceAccountKey | undefined;
  logger?: Logger | undefined;
}

/** Read and write access to objects; what the plugin asks tokens for. */
const STORAGE_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
/** GCS refuses V4 signed URLs valid for longer than seven days. */
const MAX_PRESIGN_TTL_SECONDS = 7 * 24 * 60 * 60;
/** How often a get re-reads the metadata when the object is replaced between the stat and the read. */
const GET_ATTEMPTS = 5;
/** How often the commit copy is tried when GCS is briefly unavailable. */
const COPY_ATTEMPTS = 3;
const COPY_RETRY_DELAY_MS = 500;

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };

/**
 * Whether OAuth tokens go to `endpoint`. Only Google's own domains get them (regional and
 * Private Service Connect endpoints need them); an emulator or any other host never sees a
 * token, and the client never tries to fetch one for it.
 */
export function sendsTokensTo(endpoint: string): boolean {
  const url = new URL(endpoint);
  return url.protocol === 'https:' && (url.hostname === 'googleapis.com' || url.hostname.endsWith('.googleapis.com'));
}

/**
 * Auth from a service account key: a JWT client, so URLs are signed locally with the key (no
 * IAM signBlob call). The signer asks `getCredentials()` for the account's email, which only
 * answers from `jsonContent`; it is set after construction because passing `credentials` to
 * the constructor is deprecated (and warns on every instance).
 */
function serviceAccountAuth(key: ServiceAccountKey): GoogleAuth {
  const jwt = new JWT({
    email: key.client_email,
    key: key.private_key,
    ...(key.private_key_id !== undefined && { keyId: key.private_key_id }),
    scopes: [STORAGE_SCOPE],
  });
  const auth = new GoogleAuth({ authClient: jwt, scopes: [STORAGE_SCOPE], ...(key.project_id !== undefined && { projectId: key.project_id }) });
  auth.jsonContent = { client_email: key.client_email, private_key: key.private_key };
  return auth;
}

/** The client options for a config: endpoint, credentials, retries. */
export function clientOptionsOf(options: GcsStorageOptions): StorageOptions {
  const credentials = options.credentials;
  return {
    ...(options.endpoint !== undefined && { apiEndpoint: options.endpoint.replace(/\/+$/, ''), useAuthWithCustomEndpoint: sendsTokensTo(options.endpoint) }),
    ...(credentials !== undefined && {
      authClient: serviceAccountAuth(credentials),
      ...(credentials.project_id !== undefined && { projectId: credentials.project_id }),
    }),
    // Idempotent calls are retried by the client; the host retries the rest (UnavailableError).
    retryOptions: { autoRetry: true, maxRetries: 3, totalTimeout: 120 },
  };
}

/**
 * Objects in one GCS bucket under a prefix. A put streams into a temporary object, hashing on
 * the way, and copies it to its key only when the content is complete and matches the expected
 * checksum, recording the SHA-256 as custom metadata in the same step: readers see the old
 * object or the complete new one. Gets are pinned to the generation their metadata describes.
 */
export class GcsStorage implements StorageBackend {
  readonly capabilities: StorageCapabilities = { presign: true };
  readonly bucketName: string;
  readonly #names: ObjectNames;
  readonly #client: Storage;
  readonly #bucket: Bucket;
  readonly #log: Logger;
  /** Whether requests carry OAuth tokens (not to an emulator's endpoint). */
  readonly #authenticated: boolean;
  /** Deletions of temporary objects still running, awaited by `close`. */
  readonly #cleanups = new Set<Promise<void>>();

  constructor(options: GcsStorageOptions) {
    this.bucketName = options.bucket;
    this.#names = new ObjectNames(options.prefix);
    this.#client = new Storage(clientOptionsOf(options));
    this.#bucket = this.#client.bucket(options.bucket);
    this.#log = options.logger ?? silentLogger;
    this.#authenticated = options.endpoint === undefined || sendsTokensTo(options.endpoint);
  }

  /** The normalised prefix object names start with (empty, or ending in `/`). */
  get prefix(): string {
    return this.#names.prefix;
  }

  /** Checks that the bucket exists and the credentials may list it; throws an SDK error if not. */
  async probe(signal?: AbortSignal): Promise<void> {
    try {
      // A listing that matches nothing: cheap, and needs only the objects.list permission.
      await untilAborted(this.#bucket.getFiles({ prefix: `${this.#names.prefix}.opendepot-probe/`, maxResults: 1, autoPaginate: false }), signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (httpStatusOf(err) === 404) {
        throw new NotFoundError(`bucket ${this.bucketName} does not exist`, { field: 'bucket', cause: err, hint: 'Create the bucket, or correct the bucket name.' });
      }
      throw toStorageError(err, `bucket ${this.bucketName}`);
    }
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    const name = this.#names.objectName(key);
    const { sha256: expected, size } = checkPutOptions(options);
    const { signal } = options;
    signal?.throwIfAborted();

    const temp = this.#bucket.file(this.#names.uploadName());
    const upload = uploadTo(temp, body, { signal, size, contentType: options.contentType });
    let uploaded: Uploaded;
    try {
      uploaded = await upload.done;
    } catch (err) {
      // The upload may still be unwinding: remove whatever it left once it has.
      this.#removeLater(temp, upload.settled);
      if (signal?.aborted) throw signal.reason;
      throw toStorageError(err, `put of ${JSON.stringify(key)}`);
    }

    try {
      verifySha256(key, expected, uploaded.sha256);
      // The last moment an abort can stop the put: the copy below is its commit point.
      signal?.throwIfAborted();
      const stored = await this.#commit(temp, name, key, uploaded, options.contentType);
      return stored.info;
    } catch (err) {
      throw toStorageError(err, `put of ${JSON.stringify(key)}`);
    } finally {
      await this.#remove(temp);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<{ body: AsyncIterable<Uint8Array> & NodeJS.ReadableStream; info: ObjectInfo }> {
    const name = this.#names.objectName(key);
    const { signal } = options;
    const range = checkRange(options.range);
    signal?.throwIfAborted();
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#stat(key, name, signal);
      try {
        const body = await this.#open(name, stored.generation, range, signal);
        return { body: body as Readable & AsyncIterable<Uint8Array>, info: stored.info };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        // Replaced (or deleted) between the stat and the read: describe the new object instead.
        if (httpStatusOf(err) === 404 && stored.generation !== undefined && attempt < GET_ATTEMPTS) continue;
        throw toStorageError(err, `get of ${JSON.stringify(key)}`);
      }
    }
  }

  async stat(key: string, options: RequestOptions = {}): Promise<ObjectInfo> {
    const name = this.#names.objectName(key);
    options.signal?.throwIfAborted();
    return (await this.#stat(key, name, options.signal)).info;
  }

  /**
   * Removes temporary upload objects that a killed put left under `<prefix>.opendepot-uploads/`
   * (never copied to their key), when they were created at least `olderThanMs` ago. An unfinished
   * resumable session holds no object; Google expires it after a week.
   */
  async sweepTemporaries(options: SweepOptions): Promise<SweepResult> {
    const cutoff = Date.now() - options.olderThanMs;
    const removed: string[] = [];
    try {
      const [files] = await untilAborted(this.#bucket.getFiles({ prefix: `${this.#names.prefix}${UPLOADS_FOLDER}/` }), options.signal);
      for (const file of files) {
        const created = Date.parse(String(file.metadata.timeCreated ?? file.metadata.updated ?? ''));
        if (Number.isFinite(created) && created > cutoff) continue;
        await untilAborted(file.delete({ ignoreNotFound: true }), options.signal);
        removed.push(file.name);
      }
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw toStorageError(err, `sweeping leftovers of interrupted uploads under ${JSON.stringify(this.#names.prefix)}`);
    }
    if (removed.length > 0) this.#log.info('removed leftovers of interrupted uploads', { bucket: this.bucketName, removed });
    return { removed };
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    const name = this.#names.objectName(key);
    options.signal?.throwIfAborted();
    try {
      await untilAborted(this.#bucket.file(name).delete({ ignoreNotFound: true }), options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw toStorageError(err, `delete of ${JSON.stringify(key)}`);
    }
  }

  /**
   * A V4 signed GET URL for this object only, valid for `ttlSeconds` (at most seven days). It is
   * signed locally with the service account key, or through the IAM signBlob API when the
   * credentials have no key (workload identity); with `endpoint` set it points at that endpoint.
   */
  async presign(key: string, options: PresignOptions): Promise<PresignedUrl> {
    const name = this.#names.objectName(key);
    const ttl = options.ttlSeconds;
    if (!Number.isFinite(ttl) || ttl < 1 || ttl > MAX_PRESIGN_TTL_SECONDS) {
      throw new InputError(`a presigned URL must be valid for 1 s to 7 days, not ${ttl} s`, { field: 'ttlSeconds' });
    }
    // Whole seconds: V4 signatures carry the expiry in seconds, so this is exactly when it lapses.
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + Math.floor(ttl)) * 1000);
    const filename = options.filename?.replace(/["\\\r\n]/g, '');
    try {
      const [url] = await this.#bucket.file(name).getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: expiresAt,
        ...(filename && { responseDisposition: `attachment; filename="${filename}"` }),
      });
      return { url, expiresAt };
    } catch (err) {
      if (httpStatusOf(err) !== undefined) throw toStorageError(err, `presign of ${JSON.stringify(key)}`);
      // No HTTP status: the client found nothing to sign with (no key, no ambient credentials).
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new UnauthenticatedError(`cannot sign a URL for ${JSON.stringify(key)}: ${reason}`, {
        cause: err,
        hint: 'Set credentialsSecretRef to a service account key, or give the workload identity roles/iam.serviceAccountTokenCreator on its own service account.',
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#cleanups]);
  }

  async #stat(key: string, name: string, signal: AbortSignal | undefined): Promise<StoredObject> {
    try {
      const [metadata] = await untilAborted(this.#bucket.file(name).getMetadata(), signal);
      return storedObjectOf(key, metadata);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toStorageError(err, `stat of ${JSON.stringify(key)}`);
    }
  }

  /** Opens the object's bytes at `generation` (the media URL of the JSON API). */
  #open(name: string, generation: string | undefined, range: GetOptions['range'], signal: AbortSignal | undefined): Promise<Readable> {
    const query = new URLSearchParams({ alt: 'media', ...(generation !== undefined && { generation }) });
    const url = `${this.#client.apiEndpoint}/storage/v1/b/${encodeURIComponent(this.bucketName)}/o/${encodeURIComponent(name)}?${query}`;
    const auth = this.#client.authClient;
    return openDownload({
      url,
      ...(this.#authenticated && { authHeaders: () => auth.getRequestHeaders(url) }),
      range,
      signal,
    });
  }

  /** Copies the verified upload to its key, recording its checksum: the object appears whole. */
  async #commit(temp: File, name: string, key: string, uploaded: Uploaded, contentType: string | undefined): Promise<StoredObject> {
    const copy = () =>
      temp.copy(this.#bucket.file(name), {
        contentType: contentType ?? 'application/octet-stream',
        metadata: { [SHA256_METADATA_KEY]: uploaded.sha256 },
      });
    // The client does not retry a copy without preconditions; repeating it is harmless here
    // (the same verified bytes land on the key again), so transient failures are retried.
    let response: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        [, response] = await copy();
        break;
      } catch (err) {
        if (attempt >= COPY_ATTEMPTS || !isOpenDepotError(toStorageError(err, 'copy'), 'unavailable')) throw err;
        await sleep(COPY_RETRY_DELAY_MS * attempt);
      }
    }
    const resource = (response as { resource?: FileMetadata } | undefined)?.resource;
    const stored = resource === undefined ? await this.#stat(key, name, undefined) : storedObjectOf(key, resource);
    if (stored.info.size !== uploaded.size) {
      throw new Error(`GCS stored ${stored.info.size} bytes for ${key}, but ${uploaded.size} were uploaded`);
    }
    // Another writer's copy may have landed first; report what this put wrote.
    return resource === undefined ? { ...stored, info: { key, size: uploaded.size, sha256: uploaded.sha256 } } : stored;
  }

  /** Deletes a temporary object; a failure only leaves garbage, so it is logged, not thrown. */
  async #remove(temp: File): Promise<void> {
    try {
      await temp.delete({ ignoreNotFound: true });
    } catch (err) {
      this.#log.warn('could not delete a temporary upload object; a bucket lifecycle rule can remove it', { object: temp.name, err: (err as Error).message });
    }
  }

  #removeLater(temp: File, after: Promise<void>): void {
    const cleanup = after.then(() => this.#remove(temp));
    this.#cleanups.add(cleanup);
    void cleanup.finally(() => this.#cleanups.delete(cleanup));
  }
}
