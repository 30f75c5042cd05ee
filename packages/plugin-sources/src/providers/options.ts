/** Configuration of the provider archive sources. */
import type { Logger } from '@opendepot/sdk';
import { Egress, checkHost, type EgressOptions, type HostRule } from '../egress.ts';
import { checkedUrl, type HttpPolicy } from './http.ts';
import type { UpstreamRate } from '../upstream-rate.ts';

/** Options of the provider sources (both kinds read the same object). */
export interface ProviderSourceOptions {
  /** HashiCorp Releases API base URL. Default https://api.releases.hashicorp.com */
  hashicorpReleasesUrl?: string;
  /** ASCII-armored public keys trusted to sign HashiCorp releases' SHA256SUMS (from configuration; never a key in code). */
  hashicorpTrustedKeys?: string[];
  /** Hosts an upstream registry may be on (exact names, or `*.example.com`); unset = any https host. */
  allowedRegistryHosts?: string[];
  /**
   * Hosts the URLs an upstream hands back (download_url, shasums_url, shasums_signature_url, the
   * Releases API's build and SHA256SUMS URLs) and every redirect may be on, besides the
   * registry's or Releases API's own host; unset = any https host.
   */
  allowedDownloadHosts?: string[];
  /** Address policy (private and loopback ranges refused unless allowed); an {@link Egress} to share its connections. */
  egress?: Egress | EgressOptions;
  /** Allow http:// registry and stand-in URLs (tests only). */
  allowInsecureHttp?: boolean;
  /** Where packages are spooled while hashed; default: the OS temp directory. */
  tmpDir?: string;
  logger?: Logger;
  /** Timeout of one API call or small file, and of a download until its headers arrive (default 30 s). */
  requestTimeoutMs?: number;
  /** Largest provider package accepted, in bytes; a bigger one is an InputError. Default 4 GiB. */
  maxPackageBytes?: number;
  /** Idle timeout and minimum rate of a package download (operator.limits). */
  rate?: UpstreamRate;
}

/** Default HashiCorp Releases API. */
export const HASHICORP_RELEASES_URL = 'https://api.releases.hashicorp.com';

export const REGISTRY_HOSTS_KEY = 'operator.providers.allowedRegistryHosts';
export const DOWNLOAD_HOSTS_KEY = 'operator.providers.allowedDownloadHosts';

/**
 * The HTTP policy the options describe. Every hop of every request (redirects included) must pass
 * `rule` and the scheme check, and connects only to an address the egress policy allows.
 */
export function httpPolicyOf(options: ProviderSourceOptions, rule: HostRule = { allowlists: [] }): HttpPolicy {
  const egress = options.egress instanceof Egress ? options.egress : new Egress(options.egress);
  const policy: HttpPolicy = {
    allowInsecureHttp: options.allowInsecureHttp === true,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    userAgent: 'opendepot-operator',
    ...(options.rate && { rate: options.rate }),
  };
  policy.fetch = egress.fetch((url, from) => {
    const what = from ? `the redirect from ${from.host}` : 'an upstream request';
    checkedUrl(url, policy, what, rule.field);
    checkHost(url, rule, what);
  }, rule.field);
  return policy;
}

/** Hosts the provider sources' downloads (and redirects) may be on: `allowedDownloadHosts`, or one of `lists`. */
export function downloadRule(options: ProviderSourceOptions, lists: HostRule['allowlists'] = [], alsoAllowed: string[] = []): HostRule {
  return { allowlists: [{ key: DOWNLOAD_HOSTS_KEY, hosts: options.allowedDownloadHosts }, ...lists], alsoAllowed };
}
