/** Anonymous access: everyone may read everything, as `system:anonymous`. */
import type { AuthProvider, Principal } from '@opendepot/sdk';
import { ANONYMOUS_SUBJECT } from './access-control.ts';

const ANONYMOUS: Principal = Object.freeze({ subject: ANONYMOUS_SUBJECT, provider: 'anonymous', groups: ['system:unauthenticated'], claims: {} }) as Principal;

/** Allows every request; it is last in the chain, so a credential another provider accepts still counts. */
export function anonymousProvider(): AuthProvider {
  return {
    authenticate: async () => ({ decision: 'allow', principal: ANONYMOUS }),
    authorize: async () => true,
  };
}
