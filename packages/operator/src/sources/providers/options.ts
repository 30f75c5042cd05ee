/** Configuration of the provider archive sources. */
import type { Logger } from '@opendepot/sdk';
import type { HttpPolicy } from './http.ts';
import type { UpstreamRate } from '../upstream-rate.ts';

/** Options of the provider sources (both kinds read the same object). */
export interface ProviderSourceOptions {
  /** HashiCorp Releases API base URL. Default https://api.releases.hashicorp.com */
  hashicorpReleasesUrl?: string;
  /** ASCII-armored public keys trusted to sign HashiCorp releases' SHA256SUMS (from configuration; never a key in code). */
  hashicorpTrustedKeys?: string[];
  /** Hosts an upstream registry may be on (exact names, or `*.example.com`); unset = any https host. */
  allowedRegistryHosts?: string[];
  /** Allow http:// registry and stand-in URLs (tests only). */
  allowInsecureHttp?: boolean;
  /** Where packages are spooled while hashed; default: the OS temp directory. */
  tmpDir?: string;
  logger?: Logger;
  /** Timeout of one API call or small file, and of a download until its headers arrive (default 30 s). */
  requestTimeoutMs?: number;
  /** Idle timeout and minimum rate of a package download (operator.limits). */
  rate?: UpstreamRate;
}

/** Default HashiCorp Releases API. */
export const HASHICORP_RELEASES_URL = 'https://api.releases.hashicorp.com';

/** The HTTP policy the options describe. */
export function httpPolicyOf(options: ProviderSourceOptions): HttpPolicy {
  return {
    allowInsecureHttp: options.allowInsecureHttp === true,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    userAgent: 'opendepot-operator',
    ...(options.rate && { rate: options.rate }),
  };
}
