/** `spec.scanning`: a Module's, Provider's or Depot entry's own scan policy, over the operator's. */
import { array, boolean, enumeration, integer, object, string, type Static } from './schema.ts';
import { HTTPS_URL_PATTERN } from './patterns.ts';

/** Scan severities, in increasing order (the SDK's Severity). */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

/** The fields that name a finding in status: a vulnerability in one package version. */
export const findingFields = {
  id: string('The finding, e.g. CVE-2022-32149.', { maxLength: 128 }),
  severity: enumeration('Its severity.', SEVERITIES),
  pkg: string('The package it is in, e.g. golang.org/x/text.', { maxLength: 256 }),
  installedVersion: string('The version of the package that has it.', { maxLength: 128 }),
  fixedVersion: string('The first version without it, when known.', { maxLength: 256 }),
};

/** One exemption: a finding that does not block until it expires. */
export const scanIgnoreSchema = object(
  'A finding that does not block until expires. Both expires and reason are required, so an exemption cannot live forever or without a why.',
  {
    id: string('The finding to exempt, e.g. CVE-2022-32149.', { minLength: 1, maxLength: 128 }),
    expires: string('When the exemption ends (RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z); from then on the finding blocks again, without any other change.', {
      format: 'date-time',
    }),
    reason: string('Why the finding is accepted until then, e.g. not reachable from the provider code.', { minLength: 1, maxLength: 1024 }),
  },
  { required: ['id', 'expires', 'reason'] },
);

/** `spec.scanning` of a Module, a Provider, a Depot entry and (copied) a Version. */
export const scanningSpecSchema = object('Scan policy of this resource; unset fields use the operator default (operator.scanning).', {
  blockSeverities: array(
    'Findings of these severities keep an archive out of the registry (Stalled, ScanBlocked); replaces operator.scanning.blockSeverities. An empty list blocks nothing.',
    enumeration('A severity: UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.', SEVERITIES),
    { maxItems: SEVERITIES.length, listType: 'set' },
  ),
  ignore: array('Findings that do not block until their expires date.', scanIgnoreSchema, { maxItems: 200 }),
});

export type ScanningSpec = Static<typeof scanningSpecSchema>;
export type ScanIgnore = Static<typeof scanIgnoreSchema>;

/** The vulnerability database a scan used, so a stale one shows in status (and in a metric). */
export const scanDatabaseSchema = object("The scanner's vulnerability database at the time of the scan.", {
  updatedAt: string('When the database was built.', { format: 'date-time' }),
  nextUpdate: string('When its publisher planned the next build; a database past it is stale.', { format: 'date-time' }),
  downloadedAt: string('When this copy was downloaded.', { format: 'date-time' }),
});

/** What a source scan came to. */
export const SOURCE_SCAN_STATES = ['Scanned', 'NotFound', 'Failed'] as const;

/** The counts of a scan's findings by severity. */
export const severityCountFields = {
  critical: integer('Findings of severity CRITICAL.', { minimum: 0 }),
  high: integer('Findings of severity HIGH.', { minimum: 0 }),
  medium: integer('Findings of severity MEDIUM.', { minimum: 0 }),
  low: integer('Findings of severity LOW.', { minimum: 0 }),
  unknown: integer('Findings of unknown severity.', { minimum: 0 }),
};

/** `status.sourceScan` of the Version that scans its provider version's source code. */
export const sourceScanStatusSchema = object(
  "The scan of the provider's source code for this version (go.mod and go.sum dependencies), done once per provider version by one of its Versions. Its findings do not block: what is served is judged by the binary scan. A source that cannot be found is NotFound, never a failure of the Version.",
  {
    state: enumeration('Scanned, NotFound (no source repository or tag could be found; see message), or Failed (retried on the next verification).', SOURCE_SCAN_STATES),
    version: string('The provider version whose source this is.', { maxLength: 128 }),
    repository: string('The source repository, e.g. https://github.com/hashicorp/terraform-provider-aws.', { pattern: HTTPS_URL_PATTERN, maxLength: 2048 }),
    foundIn: enumeration('Where the repository came from: the spec (providerConfig.sourceRepository) or the upstream (the HashiCorp Releases metadata, the registry source field).', [
      'spec',
      'upstream',
    ] as const),
    scanner: string('Scanner plugin that ran, e.g. trivy 0.74.0.', { maxLength: 64 }),
    scannedAt: string('When the source scan finished (or gave up).', { format: 'date-time' }),
    message: string('Why the source was not found or not scanned.', { maxLength: 1024 }),
    ...severityCountFields,
    findings: array('The findings, one per vulnerability, package and installed version (at most 200, most severe first).', object('A finding.', findingFields, { required: ['id', 'severity'] }), {
      maxItems: 200,
    }),
    truncated: boolean('True when there were more findings than listed.'),
  },
  { required: ['state', 'version'] },
);

export type ScanDatabase = Static<typeof scanDatabaseSchema>;
export type SourceScanStatus = Static<typeof sourceScanStatusSchema>;
