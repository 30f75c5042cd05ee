/**
 * The `registry` provider source: any registry speaking the provider registry protocol
 * (registry.opentofu.org, registry.terraform.io, another OpenDepot). Service discovery, then
 * `versions` and `download/<os>/<arch>`; SHA256SUMS must be signed by one of the registry's
 * `signing_keys` and agree with its `shasum` before anything is returned.
 */
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
import { checkHost, type HostRule } from '../egress.ts';
import { hostMatches } from '../git-remote.ts';
import { httpsUrlOrUndefined, redactUrl } from '../subject.ts';
import { isCanonicalVersion } from '../versions.ts';
import { checkedUrl, getJson, openDownload, type HttpPolicy } from './http.ts';
import { REGISTRY_HOSTS_KEY, downloadRule, httpPolicyOf, type ProviderSourceOptions } from './options.ts';
import { checksumFor } from './shasums.ts';
import { fetchSignedSums, missingAsUnavailable } from './signed-sums.ts';
import { readTrustedKeys } from './signature.ts';
import { REGISTRY_DEFAULTS, platformOf, providerArchiveFilename, providerNameOf } from './subject.ts';
import { sortedVersions } from './upstream-versions.ts';
import { verifiedBody } from './verified-body.ts';

const FIELD = 'spec.providerConfig.registryUrl';
/** How long a discovery answer is reused. */
const DISCOVERY_TTL_MS = 10 * 60_000;

/** The fields of a `download/<os>/<arch>` answer read here (protocol.md §3.3). */
interface PackageMeta {
  filename: string;
  downloadUrl: URL;
  shasumsUrl: URL;
  signatureUrl: URL;
  shasum: string;
  armoredKeys: string[];
  protocols: string[];
}

/** Provider versions and packages from an upstream provider registry. */
export class RegistryProviderSource implements ArchiveSource {
  readonly #options: ProviderSourceOptions;
  readonly #policy: HttpPolicy;
  /** Where URLs the registry hands back may point: a download host or an allowed registry. */
  readonly #downloads: HostRule;
  readonly #discovered = new Map<string, { base: URL; expires: number }>();

  constructor(options: ProviderSourceOptions = {}) {
    this.#options = options;
    this.#downloads = downloadRule(options, [{ key: REGISTRY_HOSTS_KEY, hosts: options.allowedRegistryHosts }]);
    this.#policy = httpPolicyOf(options, { ...this.#downloads, field: FIELD });
  }

  /** The registry's versions of `<namespace>/<type>` that are canonical semver, ascending. */
  async listVersions(subject: ArchiveSubject, options: ListOptions = {}): Promise<UpstreamVersion[]> {
    const { namespace, type } = providerNameOf(subject);
    const base = await this.#providersBase(subject, options.signal);
    const url = new URL(`${encodeURIComponent(namespace)}/${encodeURIComponent(type)}/versions`, base);
    const address = `${base.host}/${namespace}/${type}`;
    const { body } = await getJson(url, `listing the versions of ${address}`, this.#policy, options.signal).catch((err: unknown) => {
      throw isOpenDepotError(err, 'not_found') ? new NotFoundError(`registry ${base.host} has no provider ${namespace}/${type}`, { cause: err, field: 'spec.providerConfig.name' }) : err;
    });
    const list = (body as { versions?: unknown } | null)?.versions;
    if (!Array.isArray(list)) throw new UnavailableError(`registry ${base.host} answered the versions of ${namespace}/${type} without a "versions" list`);
    const versions: UpstreamVersion[] = [];
    for (const item of list) {
      const version = (item as { version?: unknown } | null)?.version;
      if (typeof version === 'string' && isCanonicalVersion(version)) versions.push({ version });
    }
    return sortedVersions(versions);
  }

  /**
   * The `source` the registry gives for the version (`GET <providers.v1>/<namespace>/<type>/<version>`,
   * the public registries' provider API beside the protocol); undefined when it has none or no
   * such endpoint.
   */
  async sourceRepository(subject: ArchiveSubject, version: string, options: ListOptions = {}): Promise<string | undefined> {
    const { namespace, type } = providerNameOf(subject);
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const base = await this.#providersBase(subject, options.signal);
    const url = new URL([namespace, type, version].map(encodeURIComponent).join('/'), base);
    try {
      const { body } = await getJson(url, `reading the source of ${base.host}/${namespace}/${type} ${version}`, this.#policy, options.signal);
      return httpsUrlOrUndefined((body as { source?: unknown } | null)?.source);
    } catch (err) {
      // Only the protocol is required of a registry; this endpoint is an extra many do not have.
      if (isOpenDepotError(err, 'not_found')) return undefined;
      throw err;
    }
  }

  /** The package of one platform, after SHA256SUMS verified against the registry's signing keys. */
  async fetch(subject: ArchiveSubject, version: string, options: FetchOptions = {}): Promise<FetchedArchive> {
    const { namespace, type } = providerNameOf(subject);
    const { os, arch } = platformOf(options);
    if (!isCanonicalVersion(version)) throw new InputError(`"${version}" is not a version such as 1.2.3`, { field: 'spec.version' });
    const signal = options.signal;
    const base = await this.#providersBase(subject, signal);
    const address = `${base.host}/${namespace}/${type}`;
    const url = new URL([namespace, type, version, 'download', os, arch].map(encodeURIComponent).join('/'), base);
    const answer = await getJson(url, `reading the package metadata of ${address} ${version} ${os}_${arch}`, this.#policy, signal).catch((err: unknown) => {
      throw isOpenDepotError(err, 'not_found')
        ? new NotFoundError(`registry ${base.host} has no package of ${namespace}/${type} ${version} for ${os}_${arch}`, { cause: err, field: 'spec.version' })
        : err;
    });
    const meta = this.#packageMeta(answer.body, answer.url, { os, arch }, `${address} ${version} ${os}_${arch}`);
    const keySource = `the signing_keys of ${redactUrl(url.toString())}`;
    const keys = await readTrustedKeys(meta.armoredKeys, `${keySource}: gpg_public_keys`, 'integrity');
    if (keys.length === 0) {
      throw new IntegrityError(`registry ${base.host} lists no signing key for ${namespace}/${type} ${version}; OpenDepot stores only providers whose checksums are signed`);
    }
    const signed = await fetchSignedSums({
      shasumsUrl: meta.shasumsUrl,
      signatureUrls: [meta.signatureUrl],
      keys,
      keySource,
      policy: this.#policy,
      ...(signal ? { signal } : {}),
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
    });
    const signedSha256 = checksumFor(signed.sums, meta.filename, signed.name);
    if (signedSha256 !== meta.shasum) {
      throw new IntegrityError(`registry ${base.host} gives shasum ${meta.shasum} for ${meta.filename}, but the signed ${signed.name} (key ${signed.signature.keyId}) says ${signedSha256}`);
    }
    this.#options.logger?.debug('verified the signed checksums of a provider package', { provider: address, version, file: meta.filename, key_id: signed.signature.keyId });

    const download = await openDownload(meta.downloadUrl, `downloading ${meta.filename}`, this.#policy, signal).catch((err: unknown) => {
      throw missingAsUnavailable(err, `registry ${base.host} lists ${meta.filename} but ${redactUrl(meta.downloadUrl.toString())} answered 404`);
    });
    return {
      body: verifiedBody(
        download.body,
        {
          sha256: signedSha256,
          ...(download.size !== undefined ? { size: download.size } : {}),
          what: `${meta.filename} from ${redactUrl(meta.downloadUrl.toString())}`,
          ...(this.#options.maxPackageBytes !== undefined ? { maxBytes: this.#options.maxPackageBytes } : {}),
        },
        download.cancel,
      ),
      filename: providerArchiveFilename(type, version, os, arch),
      ...(download.size !== undefined ? { size: download.size } : {}),
      expectedSha256: signedSha256,
      protocols: meta.protocols.length > 0 ? meta.protocols : ['5.0'],
    };
  }

  async close(): Promise<void> {
    this.#discovered.clear();
  }

  /** Checks a download answer the way the clients do; relative URLs resolve against the answer's own URL. */
  #packageMeta(body: unknown, from: URL, platform: { os: string; arch: string }, what: string): PackageMeta {
    const r = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const bad = (why: string) => new UnavailableError(`the package metadata of ${what} is unusable: ${why}`);
    if (r.os !== platform.os || r.arch !== platform.arch) throw bad(`it is for ${String(r.os)}_${String(r.arch)}`);
    const str = (key: string): string => {
      const value = r[key];
      if (typeof value !== 'string' || value === '') throw bad(`"${key}" is missing`);
      return value;
    };
    const url = (key: string): URL => {
      let resolved: URL;
      try {
        resolved = new URL(str(key), from);
      } catch {
        throw bad(`"${key}" is not a URL`);
      }
      return checkHost(checkedUrl(resolved, this.#policy, `${key} of ${what}`), this.#downloads, `${key} of ${what}`);
    };
    const shasum = str('shasum').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(shasum)) throw bad('"shasum" is not 64 hex digits');
    const filename = str('filename');
    if (filename.includes('/') || /\s/.test(filename)) throw bad(`"filename" ${JSON.stringify(filename)} is not a file name`);
    const signing = r.signing_keys as { gpg_public_keys?: unknown } | undefined;
    const keys = Array.isArray(signing?.gpg_public_keys) ? signing.gpg_public_keys : [];
    const protocols = Array.isArray(r.protocols) ? r.protocols.filter((p): p is string => typeof p === 'string' && /^\d+(\.\d+)?$/.test(p)) : [];
    return {
      filename,
      downloadUrl: url('download_url'),
      shasumsUrl: url('shasums_url'),
      signatureUrl: url('shasums_signature_url'),
      shasum,
      armoredKeys: keys.flatMap((k: unknown) => {
        const armor = (k as { ascii_armor?: unknown } | null)?.ascii_armor;
        return typeof armor === 'string' && armor !== '' ? [armor] : [];
      }),
      protocols,
    };
  }

  /** The `providers.v1` base URL of the subject's registry, from its service discovery (cached). */
  async #providersBase(subject: ArchiveSubject, signal: AbortSignal | undefined): Promise<URL> {
    const registry = this.#allowed(checkedUrl(subject.url ?? REGISTRY_DEFAULTS.registryUrl, this.#policy, 'providerConfig.registryUrl', FIELD));
    const cached = this.#discovered.get(registry.origin);
    if (cached && cached.expires > Date.now()) return cached.base;
    // Discovery is always at the host's root, whatever path registryUrl has (protocol.md §1.1).
    const discoveryUrl = new URL('/.well-known/terraform.json', registry.origin);
    const { body, url } = await getJson(discoveryUrl, `discovering the services of ${registry.host}`, this.#policy, signal).catch((err: unknown) => {
      throw isOpenDepotError(err, 'not_found') ? new InputError(`${registry.host} offers no registry services (${discoveryUrl.pathname} answered 404)`, { cause: err, field: FIELD }) : err;
    });
    const service = (body as Record<string, unknown> | null)?.['providers.v1'];
    if (typeof service !== 'string') {
      throw new InputError(`${registry.host} does not offer a provider registry (no "providers.v1" in its service discovery)`, { field: FIELD });
    }
    let base: URL;
    try {
      base = new URL(service, url);
    } catch {
      throw new InputError(`the providers.v1 service of ${registry.host} is not a URL: ${JSON.stringify(service)}`, { field: FIELD });
    }
    base = this.#allowed(checkedUrl(base, this.#policy, `the providers.v1 service of ${registry.host}`, FIELD));
    this.#discovered.set(registry.origin, { base, expires: Date.now() + DISCOVERY_TTL_MS });
    return base;
  }

  /** Refuses a registry host outside `allowedRegistryHosts`, when that is set. */
  #allowed(url: URL): URL {
    const allowed = this.#options.allowedRegistryHosts;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (allowed && !allowed.some((pattern) => hostMatches(host, pattern))) {
      throw new InputError(`registry host ${host} is not in allowedRegistryHosts (${allowed.join(', ') || 'empty'})`, {
        field: FIELD,
        hint: `add it to ${REGISTRY_HOSTS_KEY} in the operator's configuration`,
      });
    }
    return url;
  }
}
