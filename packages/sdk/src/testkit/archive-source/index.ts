/** The archive-source conformance suite: every `ArchiveSource` plugin must pass it. */
import type { ConformanceCase } from '../case.ts';
import { toConformanceCase, type ArchiveSourceCase, type ArchiveSourceCaseId } from './case.ts';
import { abortFetch, abortList, fetchArchive, listVersions, notFoundSubject, notFoundVersion, sizeLimit, upstreamForbidden, upstreamUnauthenticated, upstreamUnavailable } from './checks.ts';
import { abortDeadlineOf, type ArchiveSourceConformanceOptions } from './options.ts';

export type { ArchiveSourceConformanceOptions, ArchiveSourceFixture, UpstreamFailure, UpstreamFailureStatus, RestoreUpstream } from './options.ts';
export type { ArchiveSourceCaseId } from './case.ts';
export { archiveFiles, formatOfFilename, type ArchiveFormat } from './archive-check.ts';
export { makeTarGz } from './tarball.ts';

const CHECKS: readonly ArchiveSourceCase[] = [
  listVersions,
  fetchArchive,
  notFoundSubject,
  notFoundVersion,
  upstreamUnavailable,
  upstreamUnauthenticated,
  upstreamForbidden,
  abortList,
  abortFetch,
  sizeLimit,
];

/**
 * The archive-source conformance cases. Every case creates its own source from
 * `options.create`, closes it when done and then runs `options.cleanup`. Register every case
 * with your test framework; none may be skipped.
 *
 * @example
 * import { test } from 'uvu';
 * import { archiveSourceConformanceCases } from '@opendepot/sdk/testkit';
 * const cases = archiveSourceConformanceCases({
 *   create: () => new MySource({ baseUrl: upstream.url }),
 *   fixture: {
 *     subject: { kind: 'module', namespace: 'acme', name: 'vpc', system: 'aws' },
 *     versions: [{ version: '1.0.0', ref: 'v1.0.0' }],
 *     fetch: { version: '1.0.0', filename: 'vpc-1.0.0.tar.gz', files: ['main.tf'] },
 *     missingSubject: { kind: 'module', namespace: 'acme', name: 'nope', system: 'aws' },
 *     missingVersion: '9.9.9',
 *     failUpstream: (status) => {
 *       upstream.answerEverything(status);
 *       return { restore: () => upstream.answerEverything(undefined) };
 *     },
 *     createLimited: () => new MySource({ baseUrl: upstream.url, maxArchiveBytes: 16 }),
 *   },
 * });
 * for (const c of cases) test(c.name, c.run);
 * test.run();
 */
export function archiveSourceConformanceCases(options: ArchiveSourceConformanceOptions): ConformanceCase<ArchiveSourceCaseId>[] {
  const abortDeadlineMs = abortDeadlineOf(options);
  return CHECKS.map((check) => toConformanceCase(check, options, abortDeadlineMs));
}
