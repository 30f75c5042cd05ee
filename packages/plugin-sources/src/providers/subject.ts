/** The provider subject's names and platform, checked, and the names provider packages are served as. */
import { InputError, type ArchiveSubject } from '@opendepot/sdk';

/** The defaults of the provider registry protocol (as the CRD's): namespace, and the upstream registry. */
export const REGISTRY_DEFAULTS = { namespace: 'hashicorp', registryUrl: 'https://registry.opentofu.org' } as const;

/** The file a provider package is served as: `terraform-provider-<type>_<version>_<os>_<arch>.zip`. */
export function providerArchiveFilename(type: string, version: string, os: string, arch: string): string {
  return `terraform-provider-${type}_${version}_${os}_${arch}.zip`;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const PLATFORM = /^[a-z0-9]{1,16}$/;

/** Type and namespace of a provider subject, checked (they end up in URLs and file names). */
export function providerNameOf(subject: ArchiveSubject): { namespace: string; type: string } {
  const type = subject.name.toLowerCase();
  const namespace = (subject.namespace ?? REGISTRY_DEFAULTS.namespace).toLowerCase();
  if (subject.kind !== 'provider') throw new InputError(`a provider source was asked for a ${subject.kind}`);
  if (!NAME.test(type)) throw new InputError(`providerConfig.name "${subject.name}" is not a provider type such as aws`, { field: 'spec.providerConfig.name' });
  if (!NAME.test(namespace)) {
    throw new InputError(`providerConfig.namespace "${subject.namespace ?? ''}" is not a registry namespace such as hashicorp`, { field: 'spec.providerConfig.namespace' });
  }
  return { namespace, type };
}

/** The requested platform, checked; providers are always fetched for one OS and architecture. */
export function platformOf(options: { os?: string; arch?: string }): { os: string; arch: string } {
  const { os, arch } = options;
  if (os === undefined || arch === undefined) throw new InputError('a provider archive is fetched for one platform: pass os and arch');
  if (!PLATFORM.test(os) || !PLATFORM.test(arch)) throw new InputError(`"${os}_${arch}" is not a platform such as linux_amd64`);
  return { os, arch };
}
