/**
 * The provider archive sources: the HashiCorp Releases API and any provider registry. Both return
 * a package only after its SHA256SUMS verified against the publisher's key, and the package
 * stream itself fails unless it hashes to the signed checksum.
 */
import type { ArchiveSource } from '@opendepot/sdk';
import { HashicorpReleasesSource } from './hashicorp.ts';
import type { ProviderSourceOptions } from './options.ts';
import { RegistryProviderSource } from './registry.ts';
import type { ProviderSourceKind } from './subject.ts';

export { HashicorpReleasesSource } from './hashicorp.ts';
export { RegistryProviderSource } from './registry.ts';
export { HASHICORP_RELEASES_URL, type ProviderSourceOptions } from './options.ts';
export { providerArchiveSubject, providerArchiveFilename, type ProviderSourceConfig, type ProviderSourceKind } from './subject.ts';
export { providerPackageHashes, hashZipFile, type ProviderPackageHashes, type ProviderZipLimits } from './hashes.ts';
export { parseShasums } from './shasums.ts';

/** Makes the provider source of `kind`. */
export function createProviderSource(kind: ProviderSourceKind, options: ProviderSourceOptions = {}): ArchiveSource {
  switch (kind) {
    case 'hashicorp-releases':
      return new HashicorpReleasesSource(options);
    case 'registry':
      return new RegistryProviderSource(options);
    default:
      throw new TypeError(`unknown provider source ${String(kind)}`);
  }
}
