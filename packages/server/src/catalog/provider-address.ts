/**
 * How a provider Version is addressed: under providers.v1 as `<kubernetes namespace>/<type>`,
 * and under the network mirror by the address it has upstream (`<host>/<namespace>/<type>`).
 */
import { PROVIDER_DEFAULTS, type Version } from '@opendepot/core';

/** The hosts clients use for providers that come from the HashiCorp Releases API. */
export const RELEASES_MIRROR_HOSTS = ['registry.opentofu.org', 'registry.terraform.io'] as const;

/** A file name that is safe as one URL path segment and ends as a provider zip does. */
const SAFE_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,250}\.zip$/;

/** The providers.v1 address key: clients send names lower-case (IDNA-normalised); match without case. */
export function providerAddressKey(namespace: string, type: string): string {
  return `${namespace}/${type}`.toLowerCase();
}

/** The network-mirror address key of `hostname/namespace/type`. */
export function mirrorAddressKey(hostname: string, namespace: string, type: string): string {
  return `${hostname}/${namespace}/${type}`.toLowerCase();
}

/**
 * The upstream addresses a provider Version is mirrored under. `registry` sources: the host of
 * `registryUrl` (default registry.opentofu.org). The HashiCorp Releases API: the same binaries
 * are what both public registries serve, so both registry.opentofu.org and registry.terraform.io.
 */
export function mirrorAddressKeys(version: Version): string[] {
  const provider = version.spec.provider;
  if (provider === undefined) return [];
  const namespace = provider.namespace ?? PROVIDER_DEFAULTS.namespace;
  const hosts = (provider.source ?? PROVIDER_DEFAULTS.source) === 'registry' ? [registryHost(provider.registryUrl ?? PROVIDER_DEFAULTS.registryUrl)] : [...RELEASES_MIRROR_HOSTS];
  return hosts.filter((h): h is string => h !== undefined).map((host) => mirrorAddressKey(host, namespace, provider.name));
}

// The default port is dropped (as clients normalise hostnames); another port stays part of it.
function registryHost(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** The conventional package file name: `terraform-provider-<type>_<version>_<os>_<arch>.zip`. */
export function conventionalFilename(type: string, version: string, os: string, arch: string): string {
  return `terraform-provider-${type}_${version}_${os}_${arch}.zip`;
}

/** The recorded upstream file name if it is usable as a URL segment, else undefined. */
export function recordedFilename(version: Version): string | undefined {
  const name = version.status?.filename;
  return typeof name === 'string' && SAFE_FILENAME.test(name) ? name : undefined;
}
