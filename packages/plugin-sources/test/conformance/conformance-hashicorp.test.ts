/** The hashicorp-releases provider source passes the SDK's archive-source conformance suite against the Releases API stand-in. */
import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
import { createSigningKey, startHashicorpReleasesStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import { HashicorpReleasesSource, type ProviderSourceOptions } from '../../src/index.ts';
import { providerArchiveSubject } from '@opendepot/archive-kit';
import { LOOPBACK, providerConformance } from './conformance-providers.ts';

const key = await createSigningKey({ name: 'HashiCorp stand-in' });
const standin = await startHashicorpReleasesStandin({ signingKey: key });
for (const version of ['1.0.0', '1.1.0']) await standin.addRelease('terraform-provider-hello', version, { platforms: [{ os: 'linux', arch: 'amd64' }] });
const source = (options: ProviderSourceOptions = {}) => new HashicorpReleasesSource({ hashicorpReleasesUrl: standin.url, hashicorpTrustedKeys: [key.publicKeyArmored], ...LOOPBACK, ...options });

const cases = archiveSourceConformanceCases(providerConformance(standin, source, providerArchiveSubject({ name: 'hello' }), providerArchiveSubject({ name: 'nope' })));
for (const c of cases) test(c.name, c.run);

test.after(() => standin.close());
test.run();
