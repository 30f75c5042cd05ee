/**
 * The source scan of a provider version, done once per version by the Version that carries
 * `spec.sourceScan` (its first platform): find the source repository (the spec, else the upstream's
 * metadata), fetch the tag of the version through the github or git archive source (their egress
 * and size rules apply), and run the scanners that read source trees over it. Its findings go
 * into the Version's `status.sourceScan`, and from there into the Provider's deduplicated
 * aggregate; they never block (what is served is judged by its binary scan), and a source that
 * cannot be found is `NotFound`, never a failure of the Version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError, type ArchiveSource, type ArchiveSubject } from '@opendepot/sdk';
import { conditionMessage, type SourceScanStatus, type Version } from '@opendepot/core';
import { moduleArchiveSubject, spoolHashed } from '@opendepot/archive-kit';
import { conditionTime } from '../runtime/index.ts';
import { MAX_STATUS_FINDINGS, statusFindings } from './scan-findings.ts';
import { scanArchive, scannersFor, type ScanPolicy } from './scanning.ts';

/** What a source scan needs from the operator. */
export interface SourceScanDeps {
  /** The provider's own archive source, asked for the repository when the spec names none. */
  providerSource: ArchiveSource;
  /** The configured module archive source of this name (`github`, `git`), if any. */
  moduleSource(name: string): ArchiveSource | undefined;
  policy: ScanPolicy;
  spoolDir?: string;
}

/** Hosts whose repositories are fetched through the github source; any other through git. */
const GITHUB_HOSTS = new Set(['github.com', 'www.github.com']);

/**
 * Whether `version` should scan its provider's source now: it carries `spec.sourceScan`, a scanner
 * reads source trees, and there is no result for this version and repository yet (or the last
 * attempt failed, so each verification retries it).
 */
export function needsSourceScan(version: Version, policy: ScanPolicy | undefined): boolean {
  const wanted = version.spec.sourceScan;
  if (!wanted || version.spec.kind !== 'Provider' || scannersFor(policy, 'provider-source').length === 0) return false;
  const last = version.status?.sourceScan;
  if (!last || last.version !== version.spec.version || last.state === 'Failed') return true;
  // The spec named another repository since: scan that one.
  return wanted.repository !== undefined && (last.foundIn !== 'spec' || last.repository !== wanted.repository);
}

/** The outcome when nothing could be scanned. */
function notScanned(version: Version, state: 'NotFound' | 'Failed', message: string, found?: Found): SourceScanStatus {
  return {
    state,
    version: version.spec.version,
    ...(found && { repository: found.repository, foundIn: found.foundIn }),
    scannedAt: conditionTime(),
    message: conditionMessage(message),
  };
}

interface Found {
  repository: string;
  foundIn: 'spec' | 'upstream';
}

/** The repository the spec names, else the one the upstream names for the version. */
async function findRepository(version: Version, subject: ArchiveSubject, deps: SourceScanDeps, signal: AbortSignal): Promise<Found | string> {
  const named = version.spec.sourceScan?.repository;
  if (named) return { repository: named, foundIn: 'spec' };
  const source = version.spec.provider?.source ?? 'hashicorp-releases';
  if (!deps.providerSource.sourceRepository) {
    return `the provider source ${source} cannot name a source repository; set spec.providerConfig.sourceRepository on the Provider`;
  }
  const repository = await deps.providerSource.sourceRepository(subject, version.spec.version, { signal });
  if (!repository) return `the upstream (${source}) names no source repository for ${version.spec.version}; set spec.providerConfig.sourceRepository on the Provider`;
  return { repository, foundIn: 'upstream' };
}

/**
 * Scans the source of `version`'s provider version. Never throws for what the upstream or the
 * scanner did (that is in the returned state); only an abort (the Version is going) propagates.
 */
export async function scanProviderSource(version: Version, subject: ArchiveSubject, deps: SourceScanDeps, signal: AbortSignal): Promise<SourceScanStatus> {
  let found: Found | undefined;
  const work = await mkdtemp(join(deps.spoolDir ?? tmpdir(), 'opendepot-source-'));
  try {
    const located = await findRepository(version, subject, deps, signal);
    if (typeof located === 'string') return notScanned(version, 'NotFound', located);
    found = located;
    const { repository } = found;
    if (!URL.canParse(repository)) return notScanned(version, 'NotFound', `${repository} is not a URL; set spec.providerConfig.sourceRepository to the https URL of the repository`, found);
    const sourceName = GITHUB_HOSTS.has(new URL(repository).hostname.toLowerCase()) ? 'github' : 'git';
    const fetcher = deps.moduleSource(sourceName);
    if (!fetcher) {
      return notScanned(version, 'NotFound', `${repository} is fetched through the ${sourceName} archive source, which is not configured: add it to the operator's plugins`, found);
    }
    const name =
      new URL(repository).pathname
        .replace(/\.git$/, '')
        .split('/')
        .filter(Boolean)
        .at(-1) ?? 'source';
    const repoSubject = moduleArchiveSubject({ name, repoUrl: repository, source: sourceName }, { namespace: version.metadata.namespace! });
    const fetched = await fetcher.fetch(repoSubject, version.spec.version, { format: 'tar.gz', signal });
    const archivePath = join(work, 'source.tar.gz');
    await spoolHashed(fetched.body, archivePath, signal);
    const providerName = `${version.spec.provider!.namespace ?? 'hashicorp'}/${version.spec.provider!.name}`;
    // Source findings never block: the rules block nothing, the binary scans decide what is served.
    const scan = await scanArchive(archivePath, 'tar.gz', { kind: 'provider-source', name: providerName, version: version.spec.version }, deps.policy, {
      rules: { blockSeverities: [], ignore: [] },
      signal,
      spoolDir: work,
    });
    const findings = statusFindings(scan.findings);
    return {
      state: 'Scanned',
      version: version.spec.version,
      ...found,
      scanner: scan.scanner,
      scannedAt: scan.scannedAt,
      ...scan.counts,
      findings,
      truncated: findings.length === MAX_STATUS_FINDINGS && scan.findings.length > MAX_STATUS_FINDINGS,
    };
  } catch (err) {
    if (signal.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // No such tag or repository, or a repository URL no source accepts: nothing to scan until something changes.
    const missing = isOpenDepotError(err, 'not_found') || isOpenDepotError(err, 'input');
    return notScanned(version, missing ? 'NotFound' : 'Failed', missing ? message : `${message} (retried on the next verification)`, found);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
