/**
 * The git archive source passes the SDK's archive-source conformance suite: a real repository
 * over file://, and an HTTPS remote that answers 503, 401 or 403 for the upstream failures.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
import { createGitRepo } from '@opendepot/testbed';
import { test } from 'uvu';
import { GitArchiveSource, type GitSourceOptions } from '../../src/index.ts';
import { moduleArchiveSubject } from '@opendepot/archive-kit';
import { startFailingHttps } from './failing-https.ts';

const scratch = await mkdtemp(join(tmpdir(), 'opendepot-git-conformance-'));
const repo = await createGitRepo(join(scratch, 'vpc'), {
  tags: {
    'v1.0.0': { 'main.tf': 'resource "null_resource" "v1" {}\n', 'modules/sub/main.tf': 'output "x" { value = 1 }\n' },
    '1.1.0': { 'main.tf': 'resource "null_resource" "v11" {}\n' },
  },
});
const failing = await startFailingHttps();
const caFile = join(scratch, 'ca.pem');
await writeFile(caFile, failing.caPem);

const source = (options: GitSourceOptions = {}) =>
  // file:// for the repository; the failing remote is on loopback behind a private CA.
  new GitArchiveSource({ allowFileUrls: true, egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] }, env: { GIT_SSL_CAINFO: caFile }, tmpDir: scratch, ...options });
const subjectOf = (url: string) => moduleArchiveSubject({ name: 'terraform-aws-vpc', provider: 'aws', repoUrl: url });

const cases = archiveSourceConformanceCases({
  create: () => source(),
  fixture: {
    subject: subjectOf(repo.url),
    versions: [{ version: '1.0.0', ref: 'v1.0.0' }, { version: '1.1.0' }],
    fetch: { version: '1.0.0', options: { format: 'tar.gz' }, filename: 'terraform-aws-vpc-1.0.0.tar.gz', files: ['main.tf', 'modules/sub/main.tf'] },
    missingSubject: subjectOf(pathToFileURL(join(scratch, 'no-such-repo')).toString()),
    missingVersion: '9.9.9',
    failUpstream: (status) => {
      failing.answer(status);
      return { subject: subjectOf(`${failing.url}/acme/terraform-aws-vpc.git`), restore: () => undefined };
    },
    createLimited: () => source({ limits: { maxInputBytes: 64 } }),
  },
});
for (const c of cases) test(c.name, c.run);

test.after(async () => {
  await failing.stop();
  await rm(scratch, { recursive: true, force: true });
});
test.run();
