/**
 * Serves one stored archive: a redirect to a pre-signed URL when the storage config asks for
 * it, otherwise a proxied stream that is hashed on the way and cut off on a mismatch. `Range` is
 * ignored (RFC 9110 allows it; `Accept-Ranges: none` says so): a part cannot be checked against
 * the whole archive's checksum, so only the whole, verified body is ever sent.
 */
import { pipeline, type Readable } from 'node:stream';
import { mergePresign, PRESIGN_DEFAULTS, type PresignConfig, type StorageConfig } from '@opendepot/core';
import { isOpenDepotError, UnavailableError, type Logger, type StorageBackend } from '@opendepot/sdk';
import type { Context } from 'koa';
import type { ServableArchive } from '../catalog/types.ts';
import type { RequestState } from '../observability/access-log.ts';
import type { ServerMetrics } from '../observability/metrics.ts';
import { durationSeconds } from './duration.ts';
import type { ContentTags } from './content-tags.ts';
import { ArchiveMismatchError, createVerifyingStream } from './verify-stream.ts';

/**
 * Gives the storage backend a `storageConfig` selects (core's `StorageResolver.resolve`);
 * `where` names the config in its errors. Called for every proxied download and redirect, so it
 * must hand out one shared instance per distinct config, as core's resolver does.
 */
export type ResolveStorage = (config: StorageConfig | undefined, where?: string) => Promise<StorageBackend>;

/** The presign settings a `storageConfig` resolves to: its own over its storage profile's, field by field. */
export type PresignOf = (config: StorageConfig) => PresignConfig | undefined;

/** What {@link serveArchive} needs besides the request. */
export interface ArchiveServerDeps {
  resolveStorage: ResolveStorage;
  /** The chart-wide presign settings, under each field the storageConfig (and profile) leave unset. */
  defaultPresign?: PresignConfig;
  /** Adds the storage profile's presign defaults; unset: only the storageConfig's own. */
  presignOf?: PresignOf;
  log: Logger;
  metrics: ServerMetrics;
  /** Keyed tags of archives verified before, checked instead of a second SHA-256; unset: every download is hashed. */
  contentTags?: ContentTags;
}

/** The archive to serve and how to name it. */
export interface ArchiveTarget {
  archive: ServableArchive;
  /** `namespace/name/system version`, for messages. */
  label: string;
  /** File name offered to the client. */
  filename: string;
  /** `namespace/name` of the Version resource, for logs and messages. */
  resource: string;
}

const CONTENT_TYPES = { zip: 'application/zip', 'tar.gz': 'application/gzip' } as const;

type Opened = Awaited<ReturnType<StorageBackend['get']>>;

/** Answers GET and HEAD for one archive. */
export async function serveArchive(ctx: Context, deps: ArchiveServerDeps, target: ArchiveTarget): Promise<void> {
  const { archive } = target;
  const etag = `"${archive.checksum}"`;
  ctx.set('ETag', etag);
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.set('Accept-Ranges', 'none');
  ctx.set('Repr-Digest', `sha-256=:${Buffer.from(archive.checksum, 'hex').toString('base64')}:`);
  if (ctx.get('If-None-Match').includes(etag)) {
    ctx.status = 304;
    return;
  }
  ctx.type = CONTENT_TYPES[archive.fileFormat];
  ctx.set('Content-Disposition', `attachment; filename="${target.filename}"`);
  if (ctx.method === 'HEAD') {
    ctx.status = 200;
    ctx.length = archive.size;
    return;
  }

  const backend = await openBackend(deps, target);
  if (await redirectToPresigned(ctx, deps, target, backend)) return;

  const aborter = new AbortController();
  ctx.res.once('close', () => aborter.abort());
  let opened: Opened;
  try {
    opened = await backend.get(archive.storageKey, { signal: aborter.signal });
  } catch (err) {
    throw storageError(deps, target, err);
  }
  const { body, info } = opened;
  if (info.size !== archive.size || (info.sha256 !== '' && info.sha256 !== archive.checksum)) {
    // The backend already knows the object changed: refuse before sending anything.
    (body as Partial<Readable>).destroy?.();
    deps.metrics.verificationFailures.inc();
    (ctx.state as RequestState).outcome = 'checksum-mismatch';
    deps.log.error('stored archive does not match the checksum recorded on its Version; not served', {
      archive: target.label,
      version: target.resource,
      storageKey: archive.storageKey,
      expected: { sha256: archive.checksum, size: archive.size },
      stored: { sha256: info.sha256, size: info.size },
    });
    throw new UnavailableError(`the stored archive of ${target.label} does not match the checksum recorded on its Version, so it is not served`, {
      hint: 'The operator re-verifies stored archives: it restores the archive from its source or marks the Version Stalled.',
      retryAfterMs: 30_000,
    });
  }
  streamVerified(ctx, deps, target, opened, aborter.signal);
}

/** The whole archive, hashed on the way; a mismatch destroys the response before its last chunk. */
function streamVerified(ctx: Context, deps: ArchiveServerDeps, target: ArchiveTarget, { body }: Opened, signal: AbortSignal): void {
  const { archive } = target;
  const state = ctx.state as RequestState;
  state.bytesSent = 0;
  const verifier = createVerifyingStream(
    { sha256: archive.checksum, size: archive.size },
    {
      onPush: (n) => (state.bytesSent! += n),
      onVerified: (by) => {
        state.outcome = 'verified';
        deps.metrics.archiveVerifications.inc({ by });
      },
      onMismatch: (err) => {
        deps.metrics.verificationFailures.inc();
        state.outcome = 'checksum-mismatch';
        deps.log.error('stored archive does not match the checksum recorded on its Version; response aborted', {
          archive: target.label,
          version: target.resource,
          storageKey: archive.storageKey,
          mismatch: err.mismatch,
          expected: err.expected,
          actual: err.actual,
        });
      },
    },
    deps.contentTags && { tags: deps.contentTags, storageKey: archive.storageKey },
  );
  pipeline(body, verifier, (err) => {
    if (err === undefined || err === null || err instanceof ArchiveMismatchError) return;
    reportStreamError(deps, target, state, signal, err);
  });
  ctx.status = 200;
  ctx.body = verifier;
  // Set after the body: koa drops a Content-Length set before a stream body.
  ctx.length = archive.size;
}

function reportStreamError(deps: ArchiveServerDeps, target: ArchiveTarget, state: RequestState, signal: AbortSignal, err: Error): void {
  if (signal.aborted) {
    state.outcome = 'client-aborted';
    return;
  }
  state.outcome = 'storage-error';
  deps.log.warn('reading the stored archive failed; response aborted', { archive: target.label, storageKey: target.archive.storageKey, err: errorMessage(err) });
}

async function openBackend(deps: ArchiveServerDeps, target: ArchiveTarget): Promise<StorageBackend> {
  try {
    return await deps.resolveStorage(target.archive.storageConfig, 'spec.storageConfig');
  } catch (err) {
    deps.log.error('cannot open the storage backend of an archive', { archive: target.label, version: target.resource, err: errorMessage(err) });
    throw new UnavailableError(`the storage of ${target.label} is not available`, { retryAfterMs: 10_000 });
  }
}

/** Redirects to a pre-signed URL when the config enables it; false means "proxy it instead". */
async function redirectToPresigned(ctx: Context, deps: ArchiveServerDeps, target: ArchiveTarget, backend: StorageBackend): Promise<boolean> {
  // Field by field: the resource's own storageConfig (a Module's, a Provider's, then its Depot's global), its storage profile, then the chart's default.
  const presign = mergePresign(deps.presignOf ? deps.presignOf(target.archive.storageConfig) : target.archive.storageConfig.presign, deps.defaultPresign);
  if (presign?.enabled !== true) return false;
  const fallbackToProxy = presign.fallbackToProxy ?? PRESIGN_DEFAULTS.fallbackToProxy;
  let reason: string;
  if (backend.presign !== undefined && backend.capabilities.presign) {
    try {
      const ttlSeconds = durationSeconds(presign.ttl ?? PRESIGN_DEFAULTS.ttl) ?? durationSeconds(PRESIGN_DEFAULTS.ttl)!;
      const { url } = await backend.presign(target.archive.storageKey, { ttlSeconds, filename: target.filename });
      // 307 keeps the method, so go-getter's HEAD stays a HEAD. Its ?checksum= still verifies the bytes.
      ctx.status = 307;
      ctx.set('Location', url);
      ctx.set('Cache-Control', 'no-store');
      (ctx.state as RequestState).outcome = 'presigned';
      return true;
    } catch (err) {
      reason = errorMessage(err);
    }
  } else {
    reason = 'the storage backend cannot pre-sign URLs';
  }
  if (fallbackToProxy) {
    deps.log.warn('pre-signing failed; proxying the archive instead', { archive: target.label, reason });
    return false;
  }
  deps.log.error('pre-signing failed and fallbackToProxy is false', { archive: target.label, reason });
  // The backend's reason (endpoints, credentials trouble) is in the log above, not in the answer.
  throw new UnavailableError(`cannot make a download URL for ${target.label}`, {
    hint: 'presign.fallbackToProxy is false, so the server does not proxy it.',
  });
}

// Storage trouble is the server's, not the client's: always a 503 (the archive should be there).
function storageError(deps: ArchiveServerDeps, target: ArchiveTarget, err: unknown): UnavailableError {
  const fields = { archive: target.label, version: target.resource, storageKey: target.archive.storageKey, err: errorMessage(err) };
  if (isOpenDepotError(err, 'not_found')) {
    deps.log.error('the stored archive of a Ready Version is missing', fields);
    return new UnavailableError(`the stored archive of ${target.label} is missing`, {
      hint: 'The operator restores it when it next verifies the Version.',
      retryAfterMs: 30_000,
    });
  }
  deps.log.warn('reading the stored archive failed', fields);
  return new UnavailableError(`the stored archive of ${target.label} cannot be read right now`, { retryAfterMs: 10_000 });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
