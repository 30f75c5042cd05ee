/**
 * The archive-source conformance suite passes a correct source and fails every flawed one: a
 * conformance kit that cannot fail would certify anything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { archiveFiles, archiveSourceConformanceCases, makeTarGz, type ArchiveSourceConformanceOptions } from '../src/testkit/index.ts';
import { MemoryArchiveSource, upstream, type SourceFlaw } from './memory-archive-source.ts';

const subject = { kind: 'module' as const, namespace: 'acme', name: 'vpc', system: 'aws' };

function options(flaw?: SourceFlaw): ArchiveSourceConformanceOptions {
  return {
    create: () => new MemoryArchiveSource(flaw ? { flaw } : {}),
    abortDeadlineMs: 500,
    fixture: {
      subject,
      versions: [{ version: '1.0.0', ref: 'v1.0.0' }, { version: '1.1.0' }],
      fetch: { version: '1.1.0', filename: 'vpc-1.1.0.tar.gz', files: ['main.tf', 'README.md'] },
      missingSubject: { ...subject, name: 'nope' },
      missingVersion: '9.9.9',
      failUpstream: (status) => {
        upstream.failing = status;
        return { restore: () => void (upstream.failing = undefined) };
      },
      createLimited: () => new MemoryArchiveSource({ maxBytes: 16, ...(flaw ? { flaw } : {}) }),
    },
  };
}

for (const c of archiveSourceConformanceCases(options())) test(`a correct in-memory source passes: ${c.name}`, c.run);

const flaws: Array<[SourceFlaw, string, RegExp]> = [
  ['v-prefixed-versions', 'list-versions', /not canonical/],
  ['drops-ref', 'list-versions', /ref of 1\.0\.0/],
  ['plain-not-found', 'not-found-subject', /code 'not_found'/],
  ['plain-not-found', 'not-found-version', /code 'not_found'/],
  ['forbidden-as-unauthenticated', 'upstream-forbidden', /code 'forbidden'.*UnauthenticatedError/],
  ['ignores-abort', 'abort-list', /abort error.*but it succeeded/],
  ['ignores-abort', 'abort-fetch', /abort error.*but it succeeded/],
  ['truncated-archive', 'fetch', /not a valid tar\.gz/],
  ['wrong-sha256', 'fetch', /expectedSha256/],
  ['no-size-limit', 'size-limit', /code 'input'.*succeeded/],
];
for (const [flaw, id, message] of flaws) {
  test(`a source with the flaw ${flaw} fails the ${id} case`, async () => {
    const found = archiveSourceConformanceCases(options(flaw)).find((c) => c.id === id);
    assert.ok(found, `no case ${id}`);
    let failure: Error | undefined;
    try {
      await found.run();
    } catch (err) {
      failure = err as Error;
    }
    assert.ok(failure, `the ${id} case passed against a source with the flaw ${flaw}`);
    assert.match(failure.message, message);
  });
}

test('archiveFiles lists the files of a tar.gz and refuses a corrupt one', () => {
  const archive = makeTarGz({ 'a.tf': 'a', 'dir/b.tf': 'b'.repeat(700) });
  assert.equal(archiveFiles(archive, 'tar.gz'), ['a.tf', 'dir/b.tf']);
  assert.throws(() => archiveFiles(archive.subarray(0, archive.length - 8), 'tar.gz'), /gzip/);
  assert.throws(() => archiveFiles(archive, 'zip'), /not a zip/);
});

test.run();
