/** The checks of the archive-source conformance suite. */
import * as assert from 'node:assert/strict';
import { isOpenDepotError, type ErrorCode } from '../../errors.ts';
import type { ArchiveSource, ArchiveSubject, FetchedArchive } from '../../archive-source.ts';
import { collectBytes, sha256Hex } from '../data.ts';
import { describeError, expectCode, expectRejection, expectSuccess, fail, isAbortError, within } from '../expect.ts';
import { archiveFiles, formatOfFilename } from './archive-check.ts';
import { withInstance } from '../lifecycle.ts';
import type { ArchiveSourceCase } from './case.ts';
import type { UpstreamFailureStatus } from './options.ts';

const CANONICAL = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const listVersions: ArchiveSourceCase = {
  id: 'list-versions',
  name: 'listVersions lists canonical X.Y.Z versions, once each, keeping the upstream ref',
  async run({ source, fixture }) {
    const listed = await expectSuccess(source.listVersions(fixture.subject), 'listVersions(subject)');
    assert.ok(Array.isArray(listed), 'listVersions must resolve to an array');
    for (const v of listed) {
      assert.ok(CANONICAL.test(v.version), `listed version ${JSON.stringify(v.version)} is not canonical X.Y.Z[-pre] (no leading v)`);
      if (v.ref !== undefined) assert.ok(typeof v.ref === 'string' && v.ref !== '', `the ref of ${v.version} must be a non-empty string`);
      if (v.publishedAt !== undefined) assert.ok(!Number.isNaN(Date.parse(v.publishedAt)), `publishedAt of ${v.version} must be an ISO 8601 date, got ${v.publishedAt}`);
    }
    const versions = listed.map((v) => v.version);
    assert.equal(new Set(versions).size, versions.length, `every version must be listed once, got ${versions.join(', ')}`);
    for (const expected of fixture.versions) {
      const found = listed.find((v) => v.version === expected.version);
      assert.ok(found, `version ${expected.version} must be listed; got ${versions.join(', ') || 'none'}`);
      if (expected.ref !== undefined) assert.equal(found.ref, expected.ref, `the ref of ${expected.version} must be kept as the upstream names it`);
    }
  },
};

export const fetchArchive: ArchiveSourceCase = {
  id: 'fetch',
  name: 'fetch streams a valid archive of the declared filename, matching expectedSha256 and size when given',
  async run({ source, fixture }) {
    const { version, options, filename, files } = fixture.fetch;
    const archive = await expectSuccess(source.fetch(fixture.subject, version, options), `fetch(subject, ${version})`);
    assert.equal(archive.filename, filename, 'filename');
    const format = formatOfFilename(archive.filename);
    assert.ok(format, `filename ${archive.filename} must end in .zip, .tar.gz or .tgz`);
    const bytes = await expectSuccess(collectBytes(archive.body), 'reading the fetched body');
    let listed: string[] = [];
    try {
      listed = archiveFiles(bytes, format);
    } catch (err) {
      fail(`the ${bytes.length} bytes fetched are not a valid ${format} (${archive.filename}): ${(err as Error).message}`);
    }
    for (const path of files ?? []) assert.ok(listed.includes(path), `the archive must hold ${path}; it holds ${listed.join(', ')}`);
    assert.ok(listed.length > 0, 'the archive must hold at least one file');
    if (archive.size !== undefined) assert.equal(archive.size, bytes.length, 'size must be the number of bytes streamed');
    if (archive.expectedSha256 !== undefined) {
      assert.ok(SHA256_HEX.test(archive.expectedSha256), `expectedSha256 must be 64 lowercase hex digits, got ${archive.expectedSha256}`);
      assert.equal(sha256Hex(bytes), archive.expectedSha256, 'the streamed bytes must hash to expectedSha256');
    }
  },
};

export const notFoundSubject: ArchiveSourceCase = {
  id: 'not-found-subject',
  name: 'an unknown subject is a NotFoundError, from listVersions and from fetch',
  async run({ source, fixture }) {
    await expectCode(source.listVersions(fixture.missingSubject), 'not_found', 'listVersions(missingSubject)');
    await expectCode(source.fetch(fixture.missingSubject, fixture.fetch.version, fixture.fetch.options), 'not_found', 'fetch(missingSubject)');
  },
};

export const notFoundVersion: ArchiveSourceCase = {
  id: 'not-found-version',
  name: 'an unknown version is a NotFoundError, and is not listed',
  async run({ source, fixture }) {
    const listed = await expectSuccess(source.listVersions(fixture.subject), 'listVersions(subject)');
    assert.ok(!listed.some((v) => v.version === fixture.missingVersion), `the fixture's missingVersion ${fixture.missingVersion} is listed`);
    await expectCode(source.fetch(fixture.subject, fixture.missingVersion, fixture.fetch.options), 'not_found', `fetch(subject, ${fixture.missingVersion})`);
  },
};

function upstreamCase(id: ArchiveSourceCase['id'], status: UpstreamFailureStatus, code: ErrorCode): ArchiveSourceCase {
  return {
    id,
    name: `an upstream answering ${status} is an error with code '${code}', from listVersions and from fetch`,
    async run({ source, fixture }) {
      const failure = await fixture.failUpstream(status);
      try {
        const subject = failure.subject ?? fixture.subject;
        await expectCode(source.listVersions(subject), code, `listVersions while the upstream answers ${status}`);
        await expectCode(fetchAndRead(source, subject, fixture.fetch.version, fixture.fetch.options), code, `fetch while the upstream answers ${status}`);
      } finally {
        await failure.restore();
      }
    },
  };
}

export const upstreamUnavailable = upstreamCase('upstream-unavailable', 503, 'unavailable');
export const upstreamUnauthenticated = upstreamCase('upstream-unauthenticated', 401, 'unauthenticated');
export const upstreamForbidden = upstreamCase('upstream-forbidden', 403, 'forbidden');

/** Runs `operation` with a signal that is aborted already, then with one aborted just after the call. */
async function expectAborts(operation: (signal: AbortSignal) => Promise<unknown>, what: string, deadlineMs: number): Promise<void> {
  for (const when of ['before the call', 'just after the call'] as const) {
    const controller = new AbortController();
    if (when === 'before the call') controller.abort();
    const pending = operation(controller.signal);
    if (when === 'just after the call') controller.abort();
    const label = `${what} with a signal aborted ${when}`;
    await within(
      expectRejection(pending, (err) => isAbortError(err, controller.signal), label, 'an abort error (AbortError, or the signal’s reason)'),
      deadlineMs,
      label,
    );
  }
}

export const abortList: ArchiveSourceCase = {
  id: 'abort-list',
  name: 'an aborted signal ends listVersions promptly with an abort error',
  async run({ source, fixture, abortDeadlineMs }) {
    await expectAborts((signal) => source.listVersions(fixture.subject, { signal }), 'listVersions', abortDeadlineMs);
  },
};

export const abortFetch: ArchiveSourceCase = {
  id: 'abort-fetch',
  name: 'an aborted signal ends fetch (or the reading of its body) promptly with an abort error',
  async run({ source, fixture, abortDeadlineMs }) {
    const { version, options } = fixture.fetch;
    await expectAborts((signal) => fetchAndRead(source, fixture.subject, version, { ...options, signal }), 'fetch', abortDeadlineMs);
  },
};

export const sizeLimit: ArchiveSourceCase = {
  id: 'size-limit',
  name: 'an archive above the size limit is an InputError, and no body reaches its end',
  async run({ fixture }) {
    const { version, options } = fixture.fetch;
    await withInstance(
      () => fixture.createLimited(),
      async (limited) => {
        let archive: FetchedArchive;
        try {
          archive = await limited.fetch(fixture.subject, version, options);
        } catch (err) {
          if (isOpenDepotError(err, 'input')) return;
          fail(`fetch from the limited source: expected an OpenDepot error with code 'input', but it failed with ${describeError(err)}`);
        }
        // Refusing while streaming is allowed; a body that ends normally would be a partial archive stored as whole.
        await expectCode(collectBytes(archive.body), 'input', 'reading the body of an archive above the size limit');
      },
    );
  },
};

/** Fetches and reads the whole body, so a failure while streaming counts too. */
async function fetchAndRead(source: ArchiveSource, subject: ArchiveSubject, version: string, options: Parameters<ArchiveSource['fetch']>[2]): Promise<number> {
  const archive = await source.fetch(subject, version, options);
  return (await collectBytes(archive.body)).length;
}
