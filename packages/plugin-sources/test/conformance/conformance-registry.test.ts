/** The registry provider source passes the SDK's archive-source conformance suite against the provider registry stand-in. */
import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
import { createSigningKey, startProviderRegistryStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import { RegistryProviderSource, type ProviderSourceOptions } from '../../src/index.ts';
import { providerArchiveSubject } from '@opendepot/archive-kit';
import { LOOPBACK, providerConformance } from './conformance-providers.ts';

const key = await createSigningKey({ name: 'Registry stand-in' });
const standin = await startProviderRegistryStandin({ signingKey: key });
for (const version of ['1.0.0', '1.1.0']) await standin.addProvider('acme', 'hello', version, [{ os: 'linux', arch: 'amd64' }]);
const source = (options: ProviderSourceOptions = {}) => new RegistryProviderSource({ ...LOOPBACK, ...options });
const subjectOf = (name: string) => providerArchiveSubject({ name, namespace: 'acme', source: 'registry', registryUrl: standin.url });

const cases = archiveSourceConformanceCases(providerConformance(standin, source, subjectOf('hello'), subjectOf('nope')));
for (const c of cases) test(c.name, c.run);

test.after(() => standin.close());
test.run();
