/** How an archive-source check is written, and how it becomes a framework-independent case. */
import type { ArchiveSource } from '../../archive-source.ts';
import type { ConformanceCase } from '../case.ts';
import { withInstance } from '../lifecycle.ts';
import type { ArchiveSourceConformanceOptions, ArchiveSourceFixture } from './options.ts';

/** Identifiers of the archive-source conformance cases. */
export type ArchiveSourceCaseId =
  | 'list-versions'
  | 'fetch'
  | 'not-found-subject'
  | 'not-found-version'
  | 'upstream-unavailable'
  | 'upstream-unauthenticated'
  | 'upstream-forbidden'
  | 'abort-list'
  | 'abort-fetch'
  | 'size-limit';

/** What a check gets: a fresh source, the fixture, and the abort deadline. */
export interface ArchiveSourceCaseContext {
  source: ArchiveSource;
  fixture: ArchiveSourceFixture;
  abortDeadlineMs: number;
}

/** One archive-source check. */
export interface ArchiveSourceCase {
  id: ArchiveSourceCaseId;
  /** Name without the `archive source: ` prefix. */
  name: string;
  run(context: ArchiveSourceCaseContext): Promise<void>;
}

/** Wraps a check so it creates its source, and closes and cleans up after it whatever happens. */
export function toConformanceCase(check: ArchiveSourceCase, options: ArchiveSourceConformanceOptions, abortDeadlineMs: number): ConformanceCase<ArchiveSourceCaseId> {
  return {
    id: check.id,
    name: `archive source: ${check.name}`,
    run: () =>
      withInstance(
        () => options.create(),
        (source) => check.run({ source, fixture: options.fixture, abortDeadlineMs }),
        () => options.cleanup?.(),
      ),
  };
}
