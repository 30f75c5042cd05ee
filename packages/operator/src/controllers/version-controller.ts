/**
 * The Version controller: fetch the archive through the owner's source (a module source, or a
 * provider source that has already verified the publisher's signature), store it through the
 * storage plugin with its SHA-256 (and, for providers, the h1:/zh: lock-file hashes, taken from the
 * spooled package before it is stored), and from then on re-verify the stored bytes on
 * every reconcile and on an interval, restoring them from the source when the source still
 * matches the recorded checksum and stopping (Stalled) when it does not.
 */
import { Readable } from 'node:stream';
import {
  archiveAddress,
  conditionMessage,
  moduleDocsKey,
  reasonMeaning,
  toCondition,
  type Informer,
  type ResourceClient,
  type DocsSummary,
  type ModuleDocs,
  type ScanSummary,
  type StorageResolver,
  type Version,
} from '@opendepot/core';
import { InputError, IntegrityError, isOpenDepotError, type ArchiveSource, type ArchiveSubject, type Logger, type StorageBackend } from '@opendepot/sdk';
import { moduleArchiveSubject, providerArchiveSubject, type ProviderZipLimits } from '@opendepot/archive-kit';
import { limitReason } from '../limits.ts';
import { CONDITIONS, type EventRecorder, REASONS, type StatusWriter, hasFinalizer, isBeingDeleted, type ReconcileResult } from '../runtime/index.ts';
import { fetchAndStore, upstreamSha256, verifyStored } from './archive-sync.ts';
import { PREVIOUS_STORAGE_ANNOTATION, VERSION_FINALIZER, scanReportKey } from './naming.ts';
import { blockRulesOf, exemptionLapsed, msUntilExpiry } from './scan-policy.ts';
import { needsSourceScan, scanProviderSource } from './provider-source-scan.ts';
import type { HclParser } from '../module-docs/hcl-parser.ts';
import { docsSummary, documentArchive, documentStoredIfMissing, storeModuleDocs } from '../module-docs/document.ts';
import { describeBlocking, scanArchive, scannersFor, type ScanOutcome, type ScanPolicy } from './scanning.ts';
import { statusDatabase, statusFindings } from './scan-findings.ts';
import { summarizeVersion, type StoredArchive, type UpstreamFinding, type VersionOutcome } from './version-outcome.ts';

/** What the Version controller needs. */
export interface VersionControllerDeps {
  versions: Informer<Version>;
  resource: ResourceClient<Version>;
  status: StatusWriter<Version>;
  events: EventRecorder;
  storage: Pick<StorageResolver, 'resolve'>;
  /** The archive source of a Version (by its owner's kind and source). */
  sourceFor(version: Version): ArchiveSource;
  /** How often a Ready Version's stored archive is hashed again. */
  verifyIntervalMs: number;
  /** Scanner plugins and what their findings block; modules are scanned before they are stored. */
  scanning?: ScanPolicy;
  /** Present: module versions are documented (README, inputs, outputs) for the browse UI. */
  docsParser?: HclParser;
  /** A configured module archive source by name (github, git): provider source scans fetch through them. */
  moduleSource?(name: string): ArchiveSource | undefined;
  /** The operator's spool directory (swept at start); default: the OS temp directory. */
  spoolDir?: string;
  /** Caps of a provider zip, checked from its central directory before it is hashed (operator.limits). */
  providerZipLimits?: ProviderZipLimits;
  logger: Logger;
}

/** Condition set while the upstream archive differs from an immutable Version's recorded one. */
const UPSTREAM_CHANGED = CONDITIONS.UpstreamChanged;

/** When each immutable Version's upstream was last compared with its recorded sha256, by uid. */
type UpstreamChecks = Map<string, number>;

/**
 * What a step of the reconcile found: the outcome summarize writes (none: nothing to write, a
 * served Version whose re-verification is retried), what to do once it is written, and how the
 * queue goes on (a requeue, or the error it retries with backoff).
 */
interface StepResult {
  outcome?: VersionOutcome;
  /** Follow-ups after the status write (they change spec or metadata, so a new generation comes after the written status). */
  cleanups?: ('forgetPrevious' | 'clearForceSync')[];
  requeue: ReconcileResult;
  /** A transient failure: rethrown after the write so the queue retries with backoff. */
  retry?: { error: unknown };
}

/** Makes the reconcile function of the Version controller. */
export function versionReconciler(deps: VersionControllerDeps) {
  const upstreamChecks: UpstreamChecks = new Map();
  return async function reconcileVersion(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const [namespace, name] = splitKey(key);
    let version = deps.versions.get(namespace, name);
    if (!version) return;
    if (isBeingDeleted(version)) {
      upstreamChecks.delete(version.metadata.uid ?? key);
      return finalize(deps, version, signal);
    }
    if (!hasFinalizer(version, VERSION_FINALIZER)) version = await deps.resource.addFinalizer(version, VERSION_FINALIZER, { signal });
    // The cache may not show our last status write yet (a recorded checksum): read our own.
    version = deps.status.current(version);
    let step: StepResult;
    try {
      step = await syncVersion(deps, version, signal, upstreamChecks);
    } catch (err) {
      // Cancelled because the Version is being deleted: nothing to report, it is finalized next.
      if (signal.aborted && err === signal.reason && !limitReason(err)) throw err;
      step = await failed(deps, version, err);
    }
    if (step.outcome) await writeOutcome(deps, version, step.outcome);
    // After Ready is written: a provider's source scan never holds up serving its binaries.
    if (step.outcome && step.outcome.state !== 'progressing') await scanSourceIfDue(deps, version, signal);
    for (const next of step.cleanups ?? []) await (next === 'forgetPrevious' ? forgetPrevious(deps, version, signal) : clearForceSync(deps, version, signal));
    if (step.retry) throw step.retry.error;
    return step.requeue;
  };
}

/** The source scan of the Version that carries it (once per provider version), written on its own. */
async function scanSourceIfDue(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  const current = deps.status.current(version);
  if (!needsSourceScan(current, deps.scanning)) {
    // No longer the carrier (the platforms changed): its old result would be counted twice.
    if (!current.spec.sourceScan && current.status?.sourceScan) await deps.status.write(current, { sourceScan: null });
    return;
  }
  const sourceScan = await scanProviderSource(
    current,
    placeOf(current).subject,
    { providerSource: deps.sourceFor(current), moduleSource: (name) => deps.moduleSource?.(name), policy: deps.scanning!, ...(deps.spoolDir && { spoolDir: deps.spoolDir }) },
    signal,
  );
  if (sourceScan.state !== 'Scanned')
    deps.logger.info('the source of a provider version was not scanned', { version: `${version.metadata.namespace}/${version.metadata.name}`, state: sourceScan.state, message: sourceScan.message });
  await deps.status.write(current, { sourceScan });
}

/** Documents a fetched module archive; a failure is logged, never a failure of the Version. */
async function documentFetched(deps: VersionControllerDeps, version: Version, archivePath: string, signal: AbortSignal): Promise<ModuleDocs | undefined> {
  try {
    return await documentArchive(archivePath, version.spec.fileFormat, { parser: deps.docsParser!, signal, ...(deps.spoolDir && { spoolDir: deps.spoolDir }) });
  } catch (err) {
    if (signal.aborted) throw err;
    deps.logger.warn('could not document a module version; it is stored without documentation', { version: `${version.metadata.namespace}/${version.metadata.name}`, err: String(err) });
    return undefined;
  }
}

/** Stores a version's documentation beside it; a failure is logged (the next verification documents it again). */
async function keepDocs(deps: VersionControllerDeps, version: Version, storage: StorageBackend, storageKey: string, docs: ModuleDocs, signal: AbortSignal): Promise<boolean> {
  try {
    await storeModuleDocs(storage, storageKey, docs, signal);
    return true;
  } catch (err) {
    if (signal.aborted) throw err;
    deps.logger.warn('could not store the documentation of a module version; retried on its next verification', {
      version: `${version.metadata.namespace}/${version.metadata.name}`,
      err: String(err),
    });
    return false;
  }
}

/** Documents a stored module version whose documentation is missing (a status summary when it did). */
async function documentStored(deps: VersionControllerDeps, version: Version, storage: StorageBackend, storageKey: string, signal: AbortSignal): Promise<DocsSummary | undefined> {
  // status.docs is written with the stored documentation: only a version without it is looked at in storage.
  if (version.spec.kind !== 'Module' || !deps.docsParser || version.status?.docs) return undefined;
  try {
    const docs = await documentStoredIfMissing(storage, storageKey, version.spec.fileFormat, { parser: deps.docsParser, signal, ...(deps.spoolDir && { spoolDir: deps.spoolDir }) });
    return docs && docsSummary(docs);
  } catch (err) {
    if (signal.aborted) throw err;
    deps.logger.warn('could not document a stored module version; retried on its next verification', { version: `${version.metadata.namespace}/${version.metadata.name}`, err: String(err) });
    return undefined;
  }
}

/** The one place a Version's status is written: the summary of an outcome. */
async function writeOutcome(deps: VersionControllerDeps, version: Version, outcome: VersionOutcome): Promise<void> {
  await deps.status.write(version, summarizeVersion(version.status, outcome));
}

/** Where a Version's archive comes from and goes to. */
interface ArchivePlace {
  subject: ArchiveSubject;
  storageKey: string;
  filename: string;
  os?: string;
  arch?: string;
}

function placeOf(version: Version): ArchivePlace {
  const { spec } = version;
  const namespace = version.metadata.namespace!;
  // Derived from spec and namespace only: status may have been written by someone else.
  const address = archiveAddress(namespace, spec);
  if (!address) throw new InputError(`the Version's spec does not name its ${spec.kind === 'Provider' ? 'provider, version and platform' : 'module and version'}`);
  const { storageKey, filename } = address;
  if (spec.kind === 'Provider') {
    const p = spec.provider!;
    return {
      subject: providerArchiveSubject({ name: p.name, ...(p.namespace && { namespace: p.namespace }), ...(p.source && { source: p.source }), ...(p.registryUrl && { registryUrl: p.registryUrl }) }),
      storageKey,
      filename,
      os: spec.operatingSystem!,
      arch: spec.architecture!,
    };
  }
  const m = spec.module!;
  return {
    subject: moduleArchiveSubject(
      { name: m.name, provider: m.provider, ...(m.repoOwner && { repoOwner: m.repoOwner }), ...(m.repoUrl && { repoUrl: m.repoUrl }), ...(m.source && { source: m.source }) },
      { namespace, ...(m.githubClientConfig && { githubClientConfig: m.githubClientConfig }) },
    ),
    storageKey,
    filename,
  };
}

/**
 * Reports a status that names other stored addresses than the derived ones (an Event); the
 * caller goes on with the derived ones and its next status write replaces the foreign ones.
 */
async function reportForeignKeys(deps: VersionControllerDeps, version: Version, storageKey: string): Promise<void> {
  const named = version.status?.storageKey;
  const report = version.status?.scan?.reportKey;
  const foreign = [
    ...(named && named !== storageKey ? [`storageKey ${JSON.stringify(named)}`] : []),
    ...(report && report !== scanReportKey(storageKey) ? [`scan.reportKey ${JSON.stringify(report)}`] : []),
  ];
  if (foreign.length === 0) return;
  deps.logger.warn('ignored stored addresses in a Version status that differ from the derived ones', { version: `${version.metadata.namespace}/${version.metadata.name}`, storageKey, foreign });
  await deps.events.warning(
    version,
    REASONS.StorageKeyIgnored,
    `the status names ${foreign.join(' and ')}, not the derived ${JSON.stringify(storageKey)}; ignored (keys are derived from spec and namespace only)`,
  );
}

/** Plans the reconcile: verify what is recorded, or fetch and store (shown as progressing meanwhile). */
async function syncVersion(deps: VersionControllerDeps, version: Version, signal: AbortSignal, upstreamChecks: UpstreamChecks): Promise<StepResult> {
  const storage = await deps.storage.resolve(version.spec.storageConfig, 'spec.storageConfig');
  const place = placeOf(version);
  await reportForeignKeys(deps, version, place.storageKey);
  const recorded = version.status?.checksum;
  // A stored archive that was let through by an exemption that has since lapsed is judged again (scanned before it is served on).
  const rejudge = deps.scanning !== undefined && exemptionLapsed(version.status?.scan, version.spec.scanning);
  if (recorded && !version.spec.forceSync && !rejudge) return verifyRecorded(deps, version, storage, place, recorded, signal, upstreamChecks);
  // Shown while the archive is fetched, scanned and stored (through the same summary).
  await writeOutcome(deps, version, { state: 'progressing', reason: REASONS.Progressing, message: `fetching ${version.spec.version} from the source` });
  return storeFromSource(deps, version, storage, place, signal, upstreamChecks);
}

/** The fetch options of a Version at `place`. */
function fetchOptionsOf(deps: VersionControllerDeps, version: Version, place: ArchivePlace, signal: AbortSignal) {
  return { format: version.spec.fileFormat, signal, ...(place.os && { os: place.os, arch: place.arch! }), ...(deps.spoolDir && { spoolDir: deps.spoolDir }) };
}

/**
 * Verify-stored: a Version with a recorded checksum is served while its stored bytes hash to it;
 * missing or changed bytes are copied from the previous storage (after a move) or restored from
 * the source, accepting only the recorded sha256; else it stalls.
 */
async function verifyRecorded(
  deps: VersionControllerDeps,
  version: Version,
  storage: StorageBackend,
  place: ArchivePlace,
  recorded: string,
  signal: AbortSignal,
  upstreamChecks: UpstreamChecks,
): Promise<StepResult> {
  const { spec } = version;
  const { storageKey } = place;
  const requeue = requeueUntil(deps, msUntilExpiry(version.status?.scan));
  const found = await verifyStored(storage, storageKey, recorded, signal);
  if (found.state === 'ok') {
    const upstream = spec.immutable ? await compareUpstream(deps, version, place, recorded, upstreamChecks, signal) : undefined;
    const docs = await documentStored(deps, version, storage, storageKey, signal);
    const stored = { checksum: recorded, size: found.size, storageKey, ...foreignReportFix(version, storageKey), ...(docs && { docs }) };
    return {
      outcome: { state: 'ready', reason: REASONS.Verified, message: `stored archive matches sha256 ${recorded}`, stored, ...(upstream && { upstream }) },
      cleanups: ['forgetPrevious'],
      requeue,
    };
  }
  // Missing after the owner moved the storage: copied from where it was, not tampering.
  const previous = version.metadata.annotations?.[PREVIOUS_STORAGE_ANNOTATION];
  const moved = found.state === 'missing' && previous !== undefined;
  if (moved) {
    const copied = await copyFromPrevious(deps, version, previous, storage, storageKey, recorded, signal);
    if (copied) {
      await deps.events.normal(version, REASONS.StorageChanged, `copied the archive of ${spec.version} from its previous storage location (sha256 ${recorded})`);
      const stored = { checksum: recorded, size: copied.size, storageKey };
      return { outcome: { state: 'ready', reason: REASONS.StorageChanged, message: `copied from the previous storage location (sha256 ${recorded})`, stored }, cleanups: ['forgetPrevious'], requeue };
    }
  }
  const what = moved
    ? 'is not at the location the new storageConfig names and could not be copied from the previous one'
    : found.state === 'missing'
      ? 'is missing from storage'
      : `was changed in storage (sha256 now ${found.actualSha256})`;
  if (moved)
    await deps.events.normal(version, REASONS.StorageChanged, `the storageConfig changed; storing the archive of ${spec.version} there again from the source, accepting only sha256 ${recorded}`);
  else await deps.events.warning(version, REASONS.TamperDetected, `the archive of ${spec.version} ${what}; restoring it from the source`);
  const restored = await fetchAndStore(deps.sourceFor(version), place.subject, spec.version, storage, storageKey, { ...fetchOptionsOf(deps, version, place, signal), expectedSha256: recorded });
  if (restored.state === 'stored') {
    await deps.events.normal(version, REASONS.Restored, `restored the archive of ${spec.version} from the source (sha256 ${recorded})`);
    const message = moved ? `stored at the new location from the source (sha256 ${recorded})` : `the archive ${what} and was restored from the source`;
    return { outcome: { state: 'ready', reason: REASONS.Restored, message, stored: { checksum: recorded, size: restored.info.size, storageKey } }, cleanups: ['forgetPrevious'], requeue };
  }
  const message = moved
    ? `the archive ${what}, and the source no longer matches the recorded sha256 ${recorded}: not serving it. Set the owner's storageConfig back to where the archive is stored (the annotation ${PREVIOUS_STORAGE_ANNOTATION} names it)${spec.immutable ? '' : ', or set spec.forceSync: true to accept the upstream archive'}.`
    : `the stored archive ${what}, and the source no longer matches the recorded sha256 ${recorded}: not serving it. Check storage and the upstream, then set spec.forceSync: true to accept the upstream archive${spec.immutable ? ' (not possible while immutable)' : ''}.`;
  await deps.events.warning(version, REASONS.ChecksumMismatch, message);
  return { outcome: { state: 'stalled', reason: REASONS.ChecksumMismatch, message }, requeue };
}

/**
 * Fetch, scan and store: the archive is fetched from the source, scanned (modules, when scanner
 * plugins are loaded) and stored with its hashes; an immutable Version that is forced to sync
 * may only store the very archive it recorded.
 */
async function storeFromSource(deps: VersionControllerDeps, version: Version, storage: StorageBackend, place: ArchivePlace, signal: AbortSignal, upstreamChecks: UpstreamChecks): Promise<StepResult> {
  const { spec } = version;
  const { storageKey } = place;
  const recorded = version.status?.checksum;
  const expected = spec.immutable && recorded ? recorded : undefined;
  // Scanned between fetch and store when scanner plugins for its kind are loaded.
  let scan: ScanOutcome | undefined;
  const subject = spec.kind === 'Module' ? { kind: 'module' as const, name: spec.module!.name } : { kind: 'provider' as const, name: spec.provider!.name };
  const scans = scannersFor(deps.scanning, subject.kind).length > 0;
  const documents = spec.kind === 'Module' && deps.docsParser !== undefined;
  let docs: ModuleDocs | undefined;
  const beforeStore =
    scans || documents
      ? async (archivePath: string) => {
          if (documents) docs = await documentFetched(deps, version, archivePath, signal);
          if (!scans) return true;
          scan = await scanArchive(archivePath, spec.fileFormat, { ...subject, version: spec.version }, deps.scanning!, {
            rules: blockRulesOf(spec.scanning, deps.scanning!.blockSeverities),
            signal,
            ...(deps.spoolDir && { spoolDir: deps.spoolDir }),
            ...(deps.providerZipLimits && { providerZipLimits: deps.providerZipLimits }),
          });
          return scan.blocking.length === 0;
        }
      : undefined;
  const stored = await fetchAndStore(deps.sourceFor(version), place.subject, spec.version, storage, storageKey, {
    ...fetchOptionsOf(deps, version, place, signal),
    ...(expected && { expectedSha256: expected }),
    ...(beforeStore && { beforeStore }),
    // A provider's lock-file hashes are taken from the spooled package before it is stored.
    ...(spec.kind === 'Provider' && { providerHashes: { ...(deps.providerZipLimits && { limits: deps.providerZipLimits }) } }),
  });
  // Judged again when the first exemption it relied on expires, without any other change.
  const requeue = requeueUntil(deps, scan?.nextExpiry === undefined ? undefined : Math.max(0, scan.nextExpiry - Date.now()));
  // Just compared with the upstream: the next comparison is one verify interval away.
  upstreamChecks.set(version.metadata.uid ?? `${version.metadata.namespace}/${version.metadata.name}`, Date.now());
  // The report describes what was stored (or refused), never an upstream archive that was not kept.
  const scanSummary = scan && (stored.state === 'stored' || stored.state === 'refused') ? await storeScanReport(storage, storageKey, scan, stored.state === 'refused', signal) : undefined;
  if (stored.state === 'refused') {
    // Refused after it was served (an exemption lapsed): the stored bytes go too, so nothing serves them.
    if (recorded) await storage.delete(storageKey, { signal });
    const policy = spec.scanning?.blockSeverities ? 'spec.scanning.blockSeverities' : 'operator.scanning.blockSeverities';
    const platform = place.os ? ` (${place.os}_${place.arch})` : '';
    const message = `the scan policy (${policy}) refuses ${spec.version}${platform}: ${describeBlocking(scan!.blocking)}; nothing is stored or served. Fix the ${spec.kind === 'Module' ? 'module' : 'provider'} and release a new version, change the policy, or add an exemption to spec.scanning.ignore (id, expires, reason).`;
    await deps.events.warning(version, REASONS.ScanBlocked, message);
    return { outcome: { state: 'stalled', reason: REASONS.ScanBlocked, message, scan: scanSummary!, ...(recorded && { forgetStored: true }) }, requeue: {} };
  }
  if (stored.state === 'upstream-differs' && !expected) {
    // The upstream's own signed checksum and its bytes disagree: nothing was stored.
    throw new IntegrityError(stored.message);
  }
  if (stored.state === 'upstream-differs') {
    const message = `${stored.message}; the Version is immutable, so the stored archive is kept and still served`;
    await deps.events.warning(version, REASONS.ImmutableViolation, message);
    const upstream = { changed: true, message };
    return { outcome: { state: 'ready', reason: REASONS.Verified, message: `stored archive kept (sha256 ${recorded})`, upstream }, cleanups: ['clearForceSync'], requeue };
  }
  const { info } = stored;
  if (docs && !(await keepDocs(deps, version, storage, storageKey, docs, signal))) docs = undefined;
  if (!recorded || recorded !== info.sha256) {
    await deps.events.normal(version, REASONS.ArchiveStored, `stored ${spec.version} (${info.size} bytes, sha256 ${info.sha256})`);
  }
  const extra = stored.hashes ? { ...stored.hashes, protocols: stored.protocols ?? version.status?.protocols ?? ['5.0'] } : {};
  // Stored unscanned (scanning turned off since): an earlier scan does not describe these bytes.
  const staleReport = scanSummary === undefined && version.status?.scan ? scanReportKey(storageKey) : undefined;
  if (staleReport) await storage.delete(staleReport, { signal });
  const archive: StoredArchive = {
    checksum: info.sha256,
    size: info.size,
    storageKey,
    filename: place.filename,
    ...extra,
    ...(scanSummary ? { scan: scanSummary } : staleReport ? { scan: null } : {}),
    ...(docs && { docs: docsSummary(docs) }),
  };
  const message = `stored and verified (sha256 ${info.sha256})${scanSummary ? `; scanned by ${scanSummary.scanner}: ${findingCounts(scanSummary)}` : ''}`;
  return { outcome: { state: 'ready', reason: REASONS.Succeeded, message, stored: archive }, cleanups: ['clearForceSync'], requeue };
}

/**
 * Copies a moved Version's archive from the storage it was stored in (the annotation the owner
 * controller set) to its new place; the new backend accepts only bytes with the recorded sha256.
 * The previous storageConfig goes through the same storage profiles as any other, and the key is
 * the Version's own derived key, so nothing else can be read. Undefined when it cannot be copied
 * (gone, changed, not allowed): the caller stores it from the source instead.
 */
async function copyFromPrevious(
  deps: VersionControllerDeps,
  version: Version,
  previous: string,
  storage: StorageBackend,
  storageKey: string,
  sha256: string,
  signal: AbortSignal,
): Promise<{ size: number } | undefined> {
  try {
    const from = await deps.storage.resolve(JSON.parse(previous) as Version['spec']['storageConfig'], `metadata.annotations[${PREVIOUS_STORAGE_ANNOTATION}]`);
    if (from === storage) return undefined;
    const { body, info } = await from.get(storageKey, { signal });
    const stored = await storage.put(storageKey, body, {
      sha256,
      signal,
      ...(info.size !== undefined && { size: info.size }),
      contentType: version.spec.fileFormat === 'tar.gz' ? 'application/gzip' : 'application/zip',
    });
    return { size: stored.size };
  } catch (err) {
    if (signal.aborted) throw err;
    deps.logger.info('could not copy a moved archive from its previous storage; storing it from the source', { version: `${version.metadata.namespace}/${version.metadata.name}`, err: String(err) });
    return undefined;
  }
}

/** Removes the previous-storage annotation once the archive is verified at its current place. */
async function forgetPrevious(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  if (version.metadata.annotations?.[PREVIOUS_STORAGE_ANNOTATION] === undefined) return;
  await deps.resource.patch(version.metadata.namespace, version.metadata.name!, { metadata: { annotations: { [PREVIOUS_STORAGE_ANNOTATION]: null } } } as never, { signal });
}

/** Keeps the full findings in storage beside the archive, and returns the status summary. */
async function storeScanReport(storage: StorageBackend, storageKey: string, scan: ScanOutcome, blocked: boolean, signal: AbortSignal): Promise<ScanSummary> {
  const reportKey = scanReportKey(storageKey);
  const database = statusDatabase(scan.database);
  const report = Buffer.from(
    `${JSON.stringify({ scanner: scan.scanner, scannedAt: scan.scannedAt, blocked, counts: scan.counts, ...(database && { database }), findings: scan.findings }, null, 2)}\n`,
  );
  await storage.put(reportKey, Readable.from([report]), { signal, size: report.byteLength, contentType: 'application/json' });
  return {
    scanner: scan.scanner,
    scannedAt: scan.scannedAt,
    ...scan.counts,
    blocked,
    reportKey,
    ...(database && { database }),
    ignored: scan.ignored,
    findings: statusFindings(scan.findings),
  };
}

/** The verify interval, or sooner when an exemption expires before it (one second after, so it has). */
function requeueUntil(deps: VersionControllerDeps, msUntil: number | undefined): ReconcileResult {
  return { requeueAfterMs: msUntil === undefined ? deps.verifyIntervalMs : Math.min(deps.verifyIntervalMs, msUntil + 1000) };
}

function findingCounts(s: ScanSummary): string {
  return `${s.critical} critical, ${s.high} high, ${s.medium} medium, ${s.low} low, ${s.unknown} unknown`;
}

/**
 * Compares an immutable Version's upstream with its recorded sha256, at most once per verify
 * interval (the first time after start at a random point of the first interval, so a restart
 * does not fetch every archive at once). A difference is reported once with a Warning Event; a
 * failing upstream is left for the next interval (debug log), changing nothing.
 */
async function compareUpstream(
  deps: VersionControllerDeps,
  version: Version,
  place: ArchivePlace,
  recorded: string,
  checks: UpstreamChecks,
  signal: AbortSignal,
): Promise<UpstreamFinding | undefined> {
  const id = version.metadata.uid ?? `${version.metadata.namespace}/${version.metadata.name}`;
  const now = Date.now();
  const last = checks.get(id);
  if (last === undefined) {
    checks.set(id, now - Math.random() * deps.verifyIntervalMs);
    return undefined;
  }
  if (now - last < deps.verifyIntervalMs) return undefined;
  checks.set(id, now);
  const { spec } = version;
  let actual: string;
  try {
    actual = await upstreamSha256(deps.sourceFor(version), place.subject, spec.version, { format: spec.fileFormat, signal, ...(place.os && { os: place.os, arch: place.arch! }) });
  } catch (err) {
    if (signal.aborted) throw err;
    // An upstream that no longer verifies (a checksum or signature by another key) is a change too.
    if (!isOpenDepotError(err, 'integrity')) {
      deps.logger.debug('could not compare an immutable Version with its upstream; trying again at the next verify', {
        version: `${version.metadata.namespace}/${version.metadata.name}`,
        err: String(err),
      });
      return undefined;
    }
    actual = `unverifiable (${(err as Error).message})`;
  }
  if (actual === recorded) return { changed: false };
  const what = /^[0-9a-f]{64}$/.test(actual) ? `now has sha256 ${actual}` : `is now ${actual}`;
  // Bounded as the condition will hold it, so an unchanged finding is recognised and not reported again.
  const message = conditionMessage(
    `the upstream archive of ${spec.version} ${what}, not the recorded ${recorded} (a moved tag or a re-published release); the Version is immutable, so the stored archive is kept and still served. Publish the change as a new version.`,
  );
  const known = version.status?.conditions?.find((c) => c.type === UPSTREAM_CHANGED && c.status === 'True');
  if (known?.message !== message) await deps.events.warning(version, REASONS.ImmutableViolation, message);
  return { changed: true, message };
}

async function clearForceSync(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  if (version.spec.forceSync) await deps.resource.patch(version.metadata.namespace, version.metadata.name!, { spec: { forceSync: false } }, { signal });
}

/**
 * The outcome of a failed sync, through the one error→condition mapping: transient failures are
 * retried by the queue (a served Version keeps being served meanwhile), others stall.
 */
async function failed(deps: VersionControllerDeps, version: Version, err: unknown): Promise<StepResult> {
  const { reason, message, transient } = toCondition(err);
  await deps.events.warning(version, reason, message);
  // Not while an exemption it was served under has lapsed: until a scan says otherwise it is not clean.
  const stillServed =
    Boolean(version.status?.checksum) &&
    version.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
    !(deps.scanning !== undefined && exemptionLapsed(version.status?.scan, version.spec.scanning));
  if (!transient) return { outcome: { state: 'stalled', reason, message }, requeue: { requeueAfterMs: deps.verifyIntervalMs } };
  // A Version already stored keeps being served while its re-verification is retried.
  if (stillServed) return { requeue: {}, retry: { error: err } };
  // An upstream too slow or a reconcile past its deadline: Stalled says so at once, and the
  // queue still retries with backoff (a transient cause may go away).
  if (reasonMeaning(reason)?.stallsWhileRetrying) return { outcome: { state: 'stalled', reason, message: `${message} (retrying with backoff)` }, requeue: {}, retry: { error: err } };
  return { outcome: { state: 'retrying', reason, message: `${message} (retrying)` }, requeue: {}, retry: { error: err } };
}

/**
 * Deletes the stored archive and its scan report at their derived keys, then lets the Version go.
 * The keys in status are never used: they may name another namespace's objects, or be missing
 * when the Version is deleted before its status recorded them (which must not orphan the object).
 */
async function finalize(deps: VersionControllerDeps, version: Version, signal: AbortSignal): Promise<void> {
  if (!hasFinalizer(version, VERSION_FINALIZER)) return;
  const address = archiveAddress(version.metadata.namespace, version.spec);
  if (address) {
    let storage: StorageBackend | undefined;
    try {
      storage = await deps.storage.resolve(version.spec.storageConfig, 'spec.storageConfig');
    } catch (err) {
      // A storage config that can never work must not block the deletion forever.
      deps.logger.warn('cannot resolve storage of a deleted Version; its archive is left in place', { version: version.metadata.name, err: String(err) });
    }
    if (storage) {
      await reportForeignKeys(deps, version, address.storageKey);
      // Deleting a key that holds nothing is a no-op; a refused Version has a report but no archive.
      await storage.delete(scanReportKey(address.storageKey), { signal });
      if (version.spec.kind === 'Module') await storage.delete(moduleDocsKey(address.storageKey), { signal });
      await storage.delete(address.storageKey, { signal });
      await deps.events.normal(version, REASONS.ArchiveDeleted, `deleted the stored archive ${address.storageKey}`);
    }
  }
  await deps.resource.removeFinalizer(version, VERSION_FINALIZER, { signal });
  deps.status.forget(version.metadata.uid);
}

/** A status scan summary whose reportKey is foreign gets the derived one. */
function foreignReportFix(version: Version, storageKey: string): { scan?: ScanSummary } {
  const scan = version.status?.scan;
  return scan?.reportKey && scan.reportKey !== scanReportKey(storageKey) ? { scan: { ...scan, reportKey: scanReportKey(storageKey) } } : {};
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}
