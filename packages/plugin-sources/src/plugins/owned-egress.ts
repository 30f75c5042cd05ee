/** A plugin instance owns the egress policy (and connection pool) made from its config. */
import type { ArchiveSource } from '@opendepot/sdk';
import { Egress, type EgressOptions } from '../egress.ts';

/**
 * Makes the source with an {@link Egress} of its own; closing the returned source closes both,
 * so a plugin host that closes its instances leaves no connection pool behind.
 */
export function withOwnEgress(options: EgressOptions | undefined, make: (egress: Egress) => ArchiveSource): ArchiveSource {
  const egress = new Egress(options);
  const source = make(egress);
  return {
    listVersions: (subject, listOptions) => source.listVersions(subject, listOptions),
    fetch: (subject, version, fetchOptions) => source.fetch(subject, version, fetchOptions),
    // Optional in the contract: passed on only when the source has it.
    ...(source.sourceRepository && { sourceRepository: source.sourceRepository.bind(source) }),
    async close() {
      try {
        await source.close?.();
      } finally {
        await egress.close();
      }
    },
  };
}
