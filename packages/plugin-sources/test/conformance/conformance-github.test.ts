/** The github archive source passes the SDK's archive-source conformance suite against the GitHub stand-in. */
import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
import { startGithubStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import { GithubArchiveSource, type GithubSourceOptions } from '../../src/index.ts';
import { moduleArchiveSubject } from '@opendepot/archive-kit';

const standin = await startGithubStandin();
standin.addRepo('acme', 'terraform-aws-vpc', {
  releases: [
    { tag: 'v1.0.0', files: { 'main.tf': 'resource "null_resource" "v1" {}\n', 'modules/sub/main.tf': 'output "x" { value = 1 }\n' } },
    { tag: '1.1.0', files: { 'main.tf': 'resource "null_resource" "v11" {}\n' } },
  ],
});
const source = (options: GithubSourceOptions = {}) =>
  // No quick retries: a 5xx must surface at once. The stand-in is on loopback, refused unless allowed.
  new GithubArchiveSource({ baseUrl: standin.url, retries: 0, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] }, ...options });
const subjectOf = (repo: string) => moduleArchiveSubject({ name: repo, provider: 'aws', repoUrl: `https://github.com/acme/${repo}` });

const cases = archiveSourceConformanceCases({
  create: () => source(),
  fixture: {
    subject: subjectOf('terraform-aws-vpc'),
    versions: [{ version: '1.0.0', ref: 'v1.0.0' }, { version: '1.1.0' }],
    fetch: { version: '1.0.0', options: { format: 'zip' }, filename: 'terraform-aws-vpc-1.0.0.zip', files: ['main.tf', 'modules/sub/main.tf'] },
    missingSubject: subjectOf('terraform-aws-nope'),
    missingVersion: '9.9.9',
    failUpstream: (status) => {
      standin.failNext(Number.MAX_SAFE_INTEGER, status);
      return { restore: () => standin.failNext(0) };
    },
    createLimited: () => source({ limits: { maxInputBytes: 64 } }),
  },
});
for (const c of cases) test(c.name, c.run);

test.after(() => standin.close());
test.run();
