/** The fixture both provider sources share: one release of `hello` for linux/amd64, and the stand-in's fault switch. */
import type { ArchiveSource, ArchiveSubject } from '@opendepot/sdk';
import type { ArchiveSourceConformanceOptions } from '@opendepot/sdk/testkit';
import type { FaultyStandin } from '@opendepot/testbed';
import type { ProviderSourceOptions } from '../../src/index.ts';

/** The stand-ins are on loopback, which the sources refuse unless allowed. */
export const LOOPBACK = { allowInsecureHttp: true, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] } } satisfies ProviderSourceOptions;

/** Conformance options for a provider source over `standin`, which holds `subject` 1.0.0 and 1.1.0. */
export function providerConformance(
  standin: FaultyStandin,
  source: (options?: ProviderSourceOptions) => ArchiveSource,
  subject: ArchiveSubject,
  missingSubject: ArchiveSubject,
): ArchiveSourceConformanceOptions {
  return {
    create: () => source(),
    fixture: {
      subject,
      versions: [{ version: '1.0.0' }, { version: '1.1.0' }],
      fetch: { version: '1.0.0', options: { os: 'linux', arch: 'amd64' }, filename: `terraform-provider-${subject.name}_1.0.0_linux_amd64.zip` },
      missingSubject,
      missingVersion: '9.9.9',
      failUpstream: (status) => {
        standin.failNext(Number.MAX_SAFE_INTEGER, status);
        return { restore: () => standin.failNext(0) };
      },
      createLimited: () => source({ maxPackageBytes: 64 }),
    },
  };
}
