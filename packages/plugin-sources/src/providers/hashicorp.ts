/**
 * The `hashicorp-releases` provider source: the HashiCorp Releases API
 * (`GET /v1/releases/terraform-provider-<type>?limit=20&after=<timestamp>` for the version index,
 * `GET /v1/releases/<product>/<version>` for builds, SHA256SUMS and its signatures). SHA256SUMS
 * must be signed by a key from `hashicorpTrustedKeys` before anything is returned.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  InputError,
  IntegrityError,
  NotFoundError,
  UnavailableError,
  isOpenDepotError,
  type ArchiveSource,
  type ArchiveSubject,
  type FetchOptions,
  type FetchedArchive,
  type ListOptions,
  type UpstreamVersion,
} from '@opendepot/sdk';
import { checkHost, hostOfUrl, type HostRule } from '../egress.ts';
import { httpsUrlOrUndefined, redactUrl } from '../subject.ts';
import { isCanonicalVersion } from '../versions.ts';
import { checkedUrl, getJson, getSmall, openDownload, type HttpPolicy } from './http.ts';
import { HASHICORP_RELEASES_URL, downloadRule, httpPolicyOf, type ProviderSourceOptions } from './options.ts';
import { checksumFor } from './shasums.ts';
import { fetchSignedSums, fileName, missingAsUnavailable } from './signed-sums.ts';
import { readTrustedKeys, type TrustedKey } from './signature.ts';
import { platformOf, providerArchiveFilename, providerNameOf } from './subject.ts';
import { sortedVersions } from './upstream-versions.ts';
import { verifiedBody } from './verified-body.ts';

/** The page size of the Releases API's version index (its maximum). */
const PAGE_SIZE = 20;
/** A bound on pages, in case an upstream never ends its index. */
const MAX_PAGES = 1000;
const MAX_MANIFEST_BYTES = 64 * 1024;
const KEYS_CONFIG = 'hashicorpTrustedKeys';

/** One release in the Releases API's answers (the fields read here). */
interface ReleaseInfo {
  version: string;
  timestampCreated: string | undefined;
  withdrawn: boolean;
  builds: Array<{ os: string; arch: string; url: string }>;
  shasumsUrl: string | undefined;
  signatureUrls: string[];
}

/** Provider versions and packages from the HashiCorp Releases API. */
export class HashicorpReleasesSource implements ArchiveSource {
  readonly #options: ProviderSourceOptions;
  readonly #policy: HttpPolicy;
  readonly #base: string;
  /** Where the release's build and SHA256SUMS URLs (and every redirect) may point. */
  readonly #downloads: HostRule;
  #keys: Promise<TrustedKey[]> | undefined;

  constructor(options: ProviderSourceOptions = {}) {
    this.#options = options;
    // The configured Releases API's own host is always allowed; what it hands back must be on allowedDownloadHosts.
    this.#downloads = downloadRule(options, [], hostOfUrl(options.hashicorpReleasesUrl ?? HASHICORP_RELEASES_URL));
    this.#policy = httpPolicyOf(options, this.#downloads);
    const base = checkedUrl(options.hashicorpReleasesUrl ?? HASHICORP_RELEASES_URL, this.#policy, 'hashicorpReleasesUrl');
    this.#base = base.toString().replace(/\/+$/, '');
  }

  /** Every release of `terraform-provider-<type>` with a canonical version (withdrawn ones left out), ascending. */
  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    const product = this.#product(subject);
    const found: UpstreamVersion[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = new URL(`${this.#base}/v1/releases/${encodeURIComponent(product)}`);
      url.searchParams.set('limit', String(PAGE_SIZE));
      if (after !== undefined) url.searchParams.set('after', after);
      const { body } = await getJson(url, `listing the releases of ${product}`, this.#policy, options.signal).catch((err: unknown) => {
        throw isOpenDepotError(err, 'not_found') ? new NotFoundError(`HashiCorp Releases (${this.#base}) has no product ${product}`, { cause: err, field: 'spec.providerConfig.name' }) : err;
      });
      if (!Array.isArray(body)) throw new UnavailableError(`HashiCorp Releases answered the index of ${product} with something other than a list`);
      const releases = body.map((item) => releaseInfo(item, product));
      for (const release of releases) {
        if (release.withdrawn || !isCanonicalVersion(release.version)) continue;
        found.push({ version: release.version, ...(release.timestampCreated ? { publishedAt: release.timestampCreated } : {}) });
      }
      // The API pages by creation time: the next page is what was created before the last one here.
      const last = releases.at(-1)?.timestampCreated;
      if (releases.length === 0 || last === undefined || last === after) return sortedVersions(found);
      after = last;
    }
    throw new UnavailableError(`the HashiCorp Releases index of ${product} did not end after ${MAX_PAGES} pages`);
  }

  /** The package of one platform, after SHA256SUMS verified against `hashicorpTrustedKeys`. */
  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    const keys = await this.#trustedKeys();
    const product = this.#product(subject);
    const { type } = providerNameOf(subject);
    const { os, arch } = platformOf(options);
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const signal = options.signal;

    const releaseUrl = new URL(`${this.#base}/v1/releases/${encodeURIComponent(product)}/${encodeURIComponent(version)}`);
    const { body } = await getJson(releaseUrl, `reading release ${product} ${version}`, this.#policy, signal).catch((err: unknown) => {
      throw isOpenDepotError(err, 'not_found') ? new NotFoundError(`HashiCorp Releases has no release ${version} of ${product}`, { cause: err, field: 'spec.version' }) : err;
    });
    const release = releaseInfo(body, product);
    if (release.version !== version) throw new UnavailableError(`HashiCorp Releases answered the request for ${product} ${version} with release ${release.version}`);
    const build = release.builds.find((b) => b.os === os && b.arch === arch);
    if (!build) {
      const have = release.builds.map((b) => `${b.os}_${b.arch}`).join(', ') || 'none';
      throw new NotFoundError(`${product} ${version} has no build for ${os}_${arch} (builds: ${have})`);
    }
    if (release.shasumsUrl === undefined) throw new IntegrityError(`release ${product} ${version} lists no SHA256SUMS (url_shasums); an unverifiable release is not stored`);

    const handedBack = (url: string, what: string) => checkHost(checkedUrl(url, this.#policy, what), this.#downloads, what);
    const zipUrl = handedBack(build.url, `the build URL of ${product} ${version} ${os}_${arch}`);
    const shasumsUrl = handedBack(release.shasumsUrl, `url_shasums of ${product} ${version}`);
    const signatureUrls = orderSignatures(
      release.signatureUrls.map((u) => handedBack(u, `url_shasums_signatures of ${product} ${version}`)),
      keys,
    );
    const signed = await fetchSignedSums({
      shasumsUrl,
      signatureUrls,
      keys,
      keySource: KEYS_CONFIG,
      policy: this.#policy,
      ...(signal ? { signal } : {}),
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
    });
    const upstreamName = fileName(zipUrl);
    const expectedSha256 = checksumFor(signed.sums, upstreamName, signed.name);
    const protocols = await this.#protocols(product, version, shasumsUrl, signed.sums, signal);
    this.#options.logger?.debug('verified the signed checksums of a provider release', { product, version, file: upstreamName, key_id: signed.signature.keyId });

    const download = await openDownload(zipUrl, `downloading ${upstreamName}`, this.#policy, signal).catch((err: unknown) => {
      throw missingAsUnavailable(err, `${upstreamName} is listed in release ${product} ${version} but ${redactUrl(zipUrl.toString())} answered 404`);
    });
    return {
      body: verifiedBody(
        download.body,
        {
          sha256: expectedSha256,
          ...(download.size !== undefined ? { size: download.size } : {}),
          what: `${upstreamName} from ${redactUrl(zipUrl.toString())}`,
          ...(this.#options.maxPackageBytes !== undefined ? { maxBytes: this.#options.maxPackageBytes } : {}),
        },
        download.cancel,
      ),
      filename: providerArchiveFilename(type, version, os, arch),
      ...(download.size !== undefined ? { size: download.size } : {}),
      expectedSha256,
      protocols,
    };
  }

  /** The release metadata's `url_source_repository`, when it is an https URL. */
  async sourceRepository(subject: ArchiveSubject, version: string, options: ListOptions = {}): Promise<string | undefined> {
    const product = this.#product(subject);
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const releaseUrl = new URL(`${this.#base}/v1/releases/${encodeURIComponent(product)}/${encodeURIComponent(version)}`);
    const { body } = await getJson(releaseUrl, `reading release ${product} ${version}`, this.#policy, options.signal).catch((err: unknown) => {
      throw isOpenDepotError(err, 'not_found') ? new NotFoundError(`HashiCorp Releases has no release ${version} of ${product}`, { cause: err, field: 'spec.version' }) : err;
    });
    return httpsUrlOrUndefined((body as { url_source_repository?: unknown } | null)?.url_source_repository);
  }

  async close(): Promise<void> {}

  /** The plugin protocols from the release's `_manifest.json`, which SHA256SUMS covers; `5.0` when there is none. */
  async #protocols(product: string, version: string, shasumsUrl: URL, sums: Map<string, string>, signal: AbortSignal | undefined): Promise<string[]> {
    const name = `${product}_${version}_manifest.json`;
    const expected = sums.get(name);
    if (expected === undefined) return ['5.0'];
    const url = new URL(encodeURIComponent(name), shasumsUrl);
    const { body } = await getSmall(url, `downloading ${name}`, this.#policy, MAX_MANIFEST_BYTES, signal).catch((err: unknown) => {
      throw missingAsUnavailable(err, `${name} is listed in SHA256SUMS but ${redactUrl(url.toString())} answered 404`);
    });
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== expected) throw new IntegrityError(`${name} does not match its signed checksum: expected sha256 ${expected}, got ${actual}`);
    let manifest: unknown;
    try {
      manifest = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (err) {
      throw new IntegrityError(`${name} is not JSON`, { cause: err });
    }
    const list = (manifest as { metadata?: { protocol_versions?: unknown } } | null)?.metadata?.protocol_versions;
    const protocols = Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && /^\d+\.\d+$/.test(p)) : [];
    return protocols.length > 0 ? protocols : ['5.0'];
  }

  #product(subject: ArchiveSubject): string {
    const { namespace, type } = providerNameOf(subject);
    if (namespace !== 'hashicorp') {
      throw new InputError(`HashiCorp Releases only has providers of the hashicorp namespace, not ${namespace}/${type}`, {
        field: 'spec.providerConfig.namespace',
        hint: 'use source: registry with the registryUrl of a registry that has it',
      });
    }
    return `terraform-provider-${type}`;
  }

  #trustedKeys(): Promise<TrustedKey[]> {
    this.#keys ??= (async () => {
      const armored = this.#options.hashicorpTrustedKeys ?? [];
      if (armored.length === 0) {
        throw new InputError(`no key is configured to verify HashiCorp releases: set ${KEYS_CONFIG} (the ASCII-armored public keys HashiCorp signs SHA256SUMS with)`, {
          hint: `configure ${KEYS_CONFIG} with HashiCorp's public key from https://www.hashicorp.com/trust/security`,
        });
      }
      return readTrustedKeys(armored, KEYS_CONFIG);
    })();
    // Cached, failure included: the keys come from configuration, which changes only with a new source.
    return this.#keys;
  }
}

/** Reads one release object defensively. */
function releaseInfo(item: unknown, product: string): ReleaseInfo {
  if (typeof item !== 'object' || item === null) throw new UnavailableError(`HashiCorp Releases answered with a release of ${product} that is not an object`);
  const r = item as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const builds = Array.isArray(r.builds) ? r.builds : [];
  const status = typeof r.status === 'object' && r.status !== null ? (r.status as Record<string, unknown>) : {};
  return {
    version: str(r.version) ?? '',
    timestampCreated: str(r.timestamp_created),
    withdrawn: status.state === 'withdrawn',
    builds: builds.flatMap((b: unknown) => {
      const build = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
      const os = str(build.os);
      const arch = str(build.arch);
      const url = str(build.url);
      return os && arch && url ? [{ os, arch, url }] : [];
    }),
    shasumsUrl: str(r.url_shasums),
    signatureUrls: Array.isArray(r.url_shasums_signatures) ? r.url_shasums_signatures.filter((u): u is string => typeof u === 'string') : [],
  };
}

/**
 * Signatures to try: those whose name carries the short ID of a trusted key (`_SHA256SUMS.72D7468F.sig`)
 * first, then the ones without a key ID, then the rest (which can only name the untrusted signer).
 */
function orderSignatures(urls: URL[], keys: readonly TrustedKey[]): URL[] {
  const shortIds = new Set(keys.flatMap((k) => k.keyIds.map((id) => id.slice(-8))));
  const rank = (url: URL) => {
    const id = /\.([0-9A-Fa-f]{8})\.sig$/.exec(url.pathname)?.[1]?.toUpperCase();
    if (id === undefined) return 1;
    return shortIds.has(id) ? 0 : 2;
  };
  return urls
    .map((url, index) => ({ url, index, rank: rank(url) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((x) => x.url);
}
