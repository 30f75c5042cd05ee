/** The Version kind: one archive (a module version, or a provider version for one platform). */
import { conditionsSchema, githubClientConfigSchema, versionString } from './common.ts';
import { FILE_FORMATS, moduleConfigFields, moduleRepositoryRules } from './module.ts';
import { H1_HASH_PATTERN, HTTPS_URL_PATTERN, OBJECT_NAME_PATTERN, SHA256_HEX_PATTERN, ZH_HASH_PATTERN } from './patterns.ts';
import { architectureSchema, operatingSystemSchema, providerConfigFields, providerSourceRules } from './provider.ts';
import { ageColumn, readyColumn, type KindDefinition, type Resource } from './resource.ts';
import { array, boolean, describe, enumeration, integer, object, string, withRules, type Static, type ValidationRule } from './schema.ts';
import { findingFields, scanDatabaseSchema, scanIgnoreSchema, scanningSpecSchema, severityCountFields, sourceScanStatusSchema } from './scanning.ts';
import { storageConfigSchema } from './storage.ts';

/** The kinds a Version can belong to. */
export const VERSION_OWNER_KINDS = ['Module', 'Provider'] as const;

const immutable = (field: string): ValidationRule[] => [{ rule: 'self == oldSelf', message: `${field} is immutable` }];

/** `spec.module` of a Version: the module coordinates, copied from its Module. */
export const versionModuleSchema = object(
  'The module this version belongs to, copied from the Module so the Version can be fetched on its own.',
  {
    name: moduleConfigFields.name,
    provider: moduleConfigFields.provider,
    repoOwner: moduleConfigFields.repoOwner,
    repoUrl: moduleConfigFields.repoUrl,
    source: moduleConfigFields.source,
    githubClientConfig: githubClientConfigSchema,
  },
  { required: ['name', 'provider'], rules: moduleRepositoryRules },
);

/** `spec.provider` of a Version: the provider coordinates, copied from its Provider. */
export const versionProviderSchema = object(
  'The provider this version belongs to, copied from the Provider so the Version can be fetched on its own.',
  {
    name: providerConfigFields.name,
    namespace: providerConfigFields.namespace,
    source: providerConfigFields.source,
    registryUrl: providerConfigFields.registryUrl,
  },
  { required: ['name'], rules: providerSourceRules },
);

/** `spec` of a Version. */
export const versionSpecSchema = object(
  'One archive to fetch, verify, scan and store. Versions are created and updated by the operator from Modules and Providers.',
  {
    kind: withRules(enumeration('Kind of the owning resource: Module or Provider.', VERSION_OWNER_KINDS), immutable('kind')),
    ownerName: string('Name of the owning Module or Provider in this namespace.', {
      pattern: OBJECT_NAME_PATTERN,
      maxLength: 253,
      rules: immutable('ownerName'),
    }),
    version: withRules(versionString('The version, as tagged upstream.'), immutable('version')),
    operatingSystem: withRules(operatingSystemSchema, immutable('operatingSystem')),
    architecture: withRules(architectureSchema, immutable('architecture')),
    module: versionModuleSchema,
    provider: versionProviderSchema,
    fileFormat: enumeration('Archive format to store and serve. Provider archives are always zip.', FILE_FORMATS),
    storageConfig: storageConfigSchema,
    immutable: boolean(
      "Once stored and verified, the archive's bytes never change: a different archive upstream (found on a periodic verify or a forceSync) is not stored; the condition UpstreamChanged=True (reason ImmutableViolation) says so while the stored archive stays served. storageConfig still follows the owner.",
    ),
    forceSync: boolean('Set true to fetch, verify and store the archive again. The operator resets it to false when done.'),
    scanning: describe(scanningSpecSchema, `${scanningSpecSchema.json.description} Copied from the owner.`),
    sourceScan: object("Set by the operator on one Version per provider version (its first platform): this Version also scans the provider's source code, once, into status.sourceScan.", {
      repository: string('The source repository the Provider names (spec.providerConfig.sourceRepository); unset: the upstream is asked for it.', {
        pattern: HTTPS_URL_PATTERN,
        maxLength: 2048,
      }),
    }),
  },
  {
    required: ['kind', 'ownerName', 'version', 'fileFormat', 'storageConfig'],
    rules: [
      {
        rule: "self.kind == 'Module' ? has(self.module) && !has(self.provider) : has(self.provider) && !has(self.module)",
        message: 'a Module version needs module and no provider; a Provider version needs provider and no module',
      },
      {
        rule: "(self.kind == 'Provider') == (has(self.operatingSystem) && has(self.architecture))",
        message: 'operatingSystem and architecture are required for a Provider version and not allowed for a Module version',
      },
      {
        rule: "self.kind != 'Provider' || self.fileFormat == 'zip'",
        message: 'provider archives are zip',
        fieldPath: '.fileFormat',
      },
    ],
  },
);

/** `status.scan` of a Version: a summary; the full report lives in storage. */
export const scanSummarySchema = object('Summary of the last security scan. The full report is kept in storage under reportKey, not in the cluster.', {
  scanner: string('Scanner plugin that ran, e.g. trivy.', { maxLength: 64 }),
  scannedAt: string('When the scan finished.', { format: 'date-time' }),
  ...severityCountFields,
  blocked: boolean('True when the scan policy refused the archive, so it is not served.'),
  reportKey: string('Storage key of the full scan report.', { maxLength: 1024 }),
  database: scanDatabaseSchema,
  ignored: array('Findings that did not block only because spec.scanning.ignore exempts them, with the exemption; the Version is scanned again when one expires.', scanIgnoreSchema, {
    maxItems: 200,
  }),
  findings: array(
    'The findings, one per vulnerability, package and installed version (at most 200, most severe first), for the owner to deduplicate; the full report has all.',
    object('A finding.', findingFields, { required: ['id', 'severity'] }),
    { maxItems: 200 },
  ),
});

/** `status` of a Version. */
export const versionStatusSchema = object('What the operator last observed.', {
  observedGeneration: integer('The metadata.generation this status was computed from.', { minimum: 0, format: 'int64' }),
  conditions: conditionsSchema,
  checksum: string('SHA-256 of the stored archive as lowercase hex, recorded when it was first verified. The server serves only archives that match it.', {
    pattern: SHA256_HEX_PATTERN,
  }),
  size: integer('Size of the stored archive in bytes.', { minimum: 0, format: 'int64' }),
  storageKey: string('Key of the archive in the storage backend.', { maxLength: 1024 }),
  h1: string('Provider package hash in the h1: scheme (base64 SHA-256 over the unpacked files), as lock files record it.', {
    pattern: H1_HASH_PATTERN,
  }),
  zh: string('Provider package hash in the zh: scheme (hex SHA-256 of the zip), as lock files record it.', { pattern: ZH_HASH_PATTERN }),
  filename: string('File name the archive is served as, e.g. terraform-provider-aws_5.80.0_linux_amd64.zip.', { maxLength: 255 }),
  protocols: array('Provider plugin protocol versions the upstream declares, e.g. ["5.0"].', string('A protocol version, e.g. 5.0.', { pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 16 }), {
    maxItems: 8,
  }),
  scan: scanSummarySchema,
  sourceScan: sourceScanStatusSchema,
  docs: object('What the browse UI lists of a module version; the documentation itself (README, inputs, outputs) is kept in storage beside the archive.', {
    description: string("The README's first paragraph, as plain text.", { maxLength: 300 }),
    readme: boolean('True when the module has a README.'),
    inputs: integer('Input variables the module declares.', { minimum: 0 }),
    outputs: integer('Outputs the module declares.', { minimum: 0 }),
    problems: integer('Configuration files that could not be read or parsed (named in the stored documentation).', { minimum: 0 }),
  }),
  lastVerifiedTime: string('When the stored archive was last checked against checksum.', { format: 'date-time' }),
  synced: boolean('True when the archive is stored and verified. Kept for compatibility with OpenDepot 0.x; prefer the Ready condition.'),
  syncStatus: string('A one-line summary of the last reconcile. Kept for compatibility with OpenDepot 0.x; prefer conditions.', {
    maxLength: 32768,
  }),
});

export type VersionSpec = Static<typeof versionSpecSchema>;
export type VersionStatus = Static<typeof versionStatusSchema>;
export type ScanSummary = Static<typeof scanSummarySchema>;
export type DocsSummary = NonNullable<VersionStatus['docs']>;
/** A Version object. */
export type Version = Resource<'Version', VersionSpec, VersionStatus>;

/** The Version kind. */
export const versionKind: KindDefinition = {
  kind: 'Version',
  plural: 'versions',
  singular: 'version',
  shortNames: ['odv'],
  description:
    'One archive of the registry: a module version, or a provider version for one operating system and architecture. Made by the operator from Modules and Providers; its status records the verified checksum.',
  spec: versionSpecSchema,
  status: versionStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'The version.' },
    { name: 'OS', type: 'string', jsonPath: '.spec.operatingSystem', description: 'Operating system (providers).', priority: 1 },
    { name: 'Arch', type: 'string', jsonPath: '.spec.architecture', description: 'Architecture (providers).', priority: 1 },
    { name: 'Checksum', type: 'string', jsonPath: '.status.checksum', description: 'SHA-256 of the stored archive.', priority: 1 },
    { name: 'Size', type: 'integer', jsonPath: '.status.size', description: 'Archive size in bytes.' },
    { name: 'Scan-Blocked', type: 'boolean', jsonPath: '.status.scan.blocked', description: 'True when the scan policy refused the archive.', priority: 1 },
    { name: 'High', type: 'integer', jsonPath: '.status.scan.high', description: 'HIGH scan findings.', priority: 1 },
    { name: 'Critical', type: 'integer', jsonPath: '.status.scan.critical', description: 'CRITICAL scan findings.', priority: 1 },
    ageColumn,
  ],
};
