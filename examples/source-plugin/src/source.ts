/**
 * The `https-dir` archive source: modules from a plain directory of tarballs on an HTTPS server,
 * `<baseUrl>/<namespace>/<name>/index.json` listing the versions and `<name>-<ref>.tar.gz` next
 * to it holding each one.
 */
import { rootCertificates } from 'node:tls';
import { InputError, NotFoundError, type ArchiveSource, type ArchiveSubject, type FetchOptions, type FetchedArchive, type ListOptions, type UpstreamVersion } from '@opendepot/sdk';
import { boundedBody, checkAnnouncedSize, readBounded } from './bounded.ts';
import { DEFAULT_MAX_ARCHIVE_BYTES, DEFAULT_REQUEST_TIMEOUT_SECONDS, type HttpsDirSourceConfig } from './config.ts';
import { get, type HttpPolicy } from './http.ts';
import { parseVersionsIndex, type IndexedVersion } from './versions-index.ts';

/** An index file is a short list: anything larger is refused rather than read. */
const MAX_INDEX_BYTES = 1024 * 1024;
/** A path segment of a namespace or name: no slashes, no dot-dot. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Options of {@link HttpsDirSource}: the config, with the CA file already read. */
export interface HttpsDirSourceOptions extends Omit<HttpsDirSourceConfig, 'caFile'> {
  /** Extra CA certificates (PEM), trusted besides Node's own list. */
  caPem?: string;
}

/** Versions and archives from an HTTPS directory of tarballs. */
export class HttpsDirSource implements ArchiveSource {
  readonly #base: URL;
  readonly #policy: HttpPolicy;
  readonly #maxArchiveBytes: number;

  constructor(options: HttpsDirSourceOptions) {
    this.#base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.#policy = {
      allowInsecureHttp: options.allowInsecureHttp === true,
      ca: options.caPem === undefined ? undefined : [...rootCertificates, options.caPem],
      headersTimeoutMs: (options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS) * 1000,
    };
    this.#maxArchiveBytes = options.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
    if (this.#base.protocol !== 'https:' && !(this.#base.protocol === 'http:' && this.#policy.allowInsecureHttp)) {
      throw new InputError(`baseUrl ${this.#base.toString()} is refused: only https:// is allowed`, {
        field: 'baseUrl',
        hint: 'use an https:// URL, or set allowInsecureHttp: true for a local test server',
      });
    }
  }

  /** The versions `index.json` lists, in its order. */
  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    return (await this.#index(subject, options.signal)).map(({ sha256: _sha256, ...version }) => version);
  }

  /** Streams `<name>-<ref>.tar.gz` of a listed version, refusing more than `maxArchiveBytes`. */
  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    if (options.format === 'zip') {
      throw new InputError('the https-dir source serves tar.gz archives only', { field: 'spec.moduleConfig.fileFormat', hint: 'set fileFormat: tar.gz' });
    }
    const indexed = (await this.#index(subject, options.signal)).find((v) => v.version === version);
    const dir = this.#directory(subject);
    if (!indexed) throw new NotFoundError(`${dir.toString()}index.json lists no version ${version}`, { field: 'spec.version' });
    const url = new URL(`${encodeURIComponent(subject.name)}-${encodeURIComponent(indexed.ref)}.tar.gz`, dir);
    const what = `the archive of ${subject.namespace}/${subject.name} ${version}`;
    const response = await get(url, what, this.#policy, options.signal);
    const limit = { what, url, maxBytes: this.#maxArchiveBytes, field: 'maxArchiveBytes' };
    const size = checkAnnouncedSize(response, limit);
    return {
      body: boundedBody(response, limit, options.signal),
      filename: `${subject.name}-${version}.tar.gz`,
      ...(size !== undefined ? { size } : {}),
      ...(indexed.sha256 ? { expectedSha256: indexed.sha256 } : {}),
    };
  }

  async close(): Promise<void> {}

  async #index(subject: ArchiveSubject, signal: AbortSignal | undefined): Promise<IndexedVersion[]> {
    const url = new URL('index.json', this.#directory(subject));
    const what = `the version index of ${subject.namespace}/${subject.name}`;
    const response = await get(url, what, this.#policy, signal).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new NotFoundError(`${url.toString()} does not exist: no module ${subject.namespace}/${subject.name} there`, { cause: err }) : err;
    });
    const bytes = await readBounded(response, { what, url, maxBytes: MAX_INDEX_BYTES, field: 'index.json' }, signal);
    return parseVersionsIndex(bytes.toString('utf8'), url.toString());
  }

  /** `<baseUrl>/<namespace>/<name>/`, after checking both are plain path segments. */
  #directory(subject: ArchiveSubject): URL {
    if (subject.kind !== 'module') throw new InputError('the https-dir source serves modules only', { field: 'spec.providerConfig.source' });
    if (subject.namespace === undefined || !SEGMENT.test(subject.namespace)) {
      throw new InputError(`the https-dir source needs moduleConfig.repoOwner, the directory under baseUrl (letters, digits, ".", "_", "-"), got ${JSON.stringify(subject.namespace)}`, {
        field: 'spec.moduleConfig.repoOwner',
      });
    }
    if (!SEGMENT.test(subject.name)) throw new InputError(`module name ${JSON.stringify(subject.name)} is not a plain path segment`, { field: 'spec.moduleConfig.name' });
    return new URL(`${subject.namespace}/${subject.name}/`, this.#base);
  }
}
