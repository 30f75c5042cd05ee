/**
 * The provider archive sources: the HashiCorp Releases API and any provider registry. Both return
 * a package only after its SHA256SUMS verified against the publisher's key, and the package
 * stream itself fails unless it hashes to the signed checksum.
 */
export { HashicorpReleasesSource } from './hashicorp.ts';
export { RegistryProviderSource } from './registry.ts';
export { HASHICORP_RELEASES_URL, type ProviderSourceOptions } from './options.ts';
export { providerArchiveFilename } from './subject.ts';
export { parseShasums } from './shasums.ts';
