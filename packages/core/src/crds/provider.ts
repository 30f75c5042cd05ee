/** The Provider kind: one provider of the registry, mirrored for chosen platforms and versions. */
import { integrityStatusFields, syncStatusFields, versionsList, versionString } from './common.ts';
import { moduleConfigFields } from './module.ts';
import { HTTPS_URL_PATTERN, PROVIDER_TYPE_PATTERN, REGISTRY_NAME_PATTERN, SOURCE_NAME_PATTERN } from './patterns.ts';
import { ageColumn, integrityColumn, readyColumn, type KindDefinition, type Resource } from './resource.ts';
import { array, boolean, describe, enumeration, integer, object, string, type Static, type ValidationRule } from './schema.ts';
import { storageConfigSchema, type StorageConfig } from './storage.ts';
import { SOURCE_SCAN_STATES, findingFields, scanningSpecSchema } from './scanning.ts';

/** Operating systems providers are built for. */
export const OPERATING_SYSTEMS = ['linux', 'darwin', 'windows', 'freebsd', 'openbsd', 'solaris'] as const;
/** CPU architectures providers are built for. */
export const ARCHITECTURES = ['amd64', 'arm64', '386', 'arm'] as const;
/** The first-party provider sources; any other archive-source plugin is named the same way. */
export const PROVIDER_SOURCES = ['hashicorp-releases', 'registry'] as const;

/** What the operator assumes when a Provider (or the Depot's global config) leaves a field out. */
export const PROVIDER_DEFAULTS = {
  namespace: 'hashicorp',
  source: 'hashicorp-releases',
  registryUrl: 'https://registry.opentofu.org',
  immutable: false,
} as const;

export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];
export type Architecture = (typeof ARCHITECTURES)[number];

/** One operating system, as the Version kind also uses it. */
export const operatingSystemSchema = enumeration('Operating system: linux, darwin, windows, freebsd, openbsd or solaris.', OPERATING_SYSTEMS);
/** One architecture, as the Version kind also uses it. */
export const architectureSchema = enumeration('CPU architecture: amd64, arm64, 386 or arm.', ARCHITECTURES);

/** The fields of `providerConfig`, shared with the Depot's `providerConfigs[]` and `global.providerConfig`. */
export const providerConfigFields = {
  name: string('Provider type upstream, e.g. aws for hashicorp/aws. Clients address it as <host>/<kubernetes namespace>/<name>.', {
    pattern: PROVIDER_TYPE_PATTERN,
  }),
  namespace: string(`Namespace of the provider upstream, e.g. hashicorp or integrations. Default: ${PROVIDER_DEFAULTS.namespace}.`, {
    pattern: REGISTRY_NAME_PATTERN,
  }),
  operatingSystems: array('Operating systems to mirror; one Version is made per version, operating system and architecture.', operatingSystemSchema, {
    minItems: 1,
    maxItems: OPERATING_SYSTEMS.length,
    listType: 'set',
  }),
  architectures: array('Architectures to mirror.', architectureSchema, { minItems: 1, maxItems: ARCHITECTURES.length, listType: 'set' }),
  source: string(
    `Where releases come from: the name of an archive-source plugin. First-party (${PROVIDER_SOURCES.join(', ')}): hashicorp-releases: the HashiCorp Releases API (releases.hashicorp.com); registry: a registry that speaks the provider protocol, at registryUrl. Another name needs its plugin in the operator's plugins:, else the Provider is Stalled. Default: ${PROVIDER_DEFAULTS.source}.`,
    { pattern: SOURCE_NAME_PATTERN, maxLength: 63 },
  ),
  registryUrl: string(`Base URL of the upstream registry when source is registry. Default: ${PROVIDER_DEFAULTS.registryUrl}.`, {
    pattern: HTTPS_URL_PATTERN,
    maxLength: 2048,
  }),
  sourceRepository: string(
    "The provider's source code repository, e.g. https://github.com/hashicorp/terraform-provider-aws, for the source scan (when a scanner that reads sources is configured): the tag v<version> (or <version>) is fetched through the github source (github.com) or the git source (any other host, allowedGitHosts). Unset: the upstream names it (the HashiCorp Releases metadata, the registry's source field); when neither does, status.scan.sources says NotFound.",
    { pattern: HTTPS_URL_PATTERN, maxLength: 2048 },
  ),
  versionConstraints: moduleConfigFields.versionConstraints,
  versionHistoryLimit: moduleConfigFields.versionHistoryLimit,
  immutable: boolean(
    `Once a version is stored and verified its bytes never change. On every verify (operator.verifyIntervalSeconds) and on forceSync the operator compares the upstream archive with the recorded sha256; when it differs (a moved tag, a re-published release) nothing is stored: the Version keeps serving the stored archive, gets the condition UpstreamChanged=True (reason ImmutableViolation) and a Warning Event, and the Provider shows it in its UpstreamChanged condition, status.integrityProblems and the Integrity column, while Ready stays True. Storage and presign settings still follow the Provider (at a new storage location the stored archive is copied from the old one, else fetched from the source, accepting only the recorded sha256). Default: ${PROVIDER_DEFAULTS.immutable}.`,
  ),
  // OpenDepot 0.x manifests nest storageConfig in providerConfig.
  storageConfig: describe(
    storageConfigSchema,
    `${storageConfigSchema.json.description} On a Provider it may be set here (as OpenDepot 0.x manifests do) or at spec.storageConfig, not both. Unset: the Depot's global storageConfig, else the chart's default.`,
  ),
};

/** CEL rules of any provider config. */
export const providerSourceRules: readonly ValidationRule[] = [
  {
    rule: "!has(self.registryUrl) || (has(self.source) && self.source == 'registry')",
    message: 'registryUrl applies only when source is registry',
  },
];

/** `spec.providerConfig` of a Provider. */
export const providerConfigSchema = object('What the provider is, where it comes from, and which platforms to mirror.', providerConfigFields, {
  required: ['name', 'operatingSystems', 'architectures'],
  rules: providerSourceRules,
});

/** `spec` of a Provider. */
export const providerSpecSchema = object(
  'The provider and the versions of it the registry serves.',
  {
    providerConfig: providerConfigSchema,
    storageConfig: describe(
      storageConfigSchema,
      `${storageConfigSchema.json.description} May be set here or at spec.providerConfig.storageConfig, not both. Unset: the Depot's global storageConfig, else the chart's default.`,
    ),
    versions: versionsList('Versions to fetch, store and serve; the operator creates one Version resource per version, operating system and architecture.'),
    forceSync: boolean('Set true to fetch, verify and store every version again. The operator resets it to false when done.'),
    scanning: scanningSpecSchema,
  },
  {
    required: ['providerConfig'],
    rules: [
      {
        rule: '!(has(self.storageConfig) && has(self.providerConfig.storageConfig))',
        message: 'set storageConfig either at spec.storageConfig or at spec.providerConfig.storageConfig, not both',
        fieldPath: '.storageConfig',
      },
    ],
  },
);

/** One deduplicated finding of a Provider: one per (id, package, installed version). */
export const providerFindingSchema = object(
  'A finding, once per vulnerability, package and installed version, with where it was found.',
  {
    ...findingFields,
    versions: array('Provider versions it was found in.', versionString('A version.'), { maxItems: 100, listType: 'set' }),
    platforms: array('Platforms (os_arch) whose binary has it.', string('A platform, e.g. linux_amd64.', { maxLength: 32 }), { maxItems: 24, listType: 'set' }),
    from: enumeration('Where it was found: the binaries, the source, or both.', ['binary', 'source', 'both'] as const),
  },
  { required: ['id', 'severity', 'from'] },
);

/** `status.scan` of a Provider: its Versions' findings, deduplicated. */
export const providerScanStatusSchema = object(
  "Security scans of this provider's versions, deduplicated: a finding found on several platforms (or in the binary and the source) counts once. Each Version's status.scan has its own summary and the key of its full report.",
  {
    scannedVersions: integer('Versions (version and platform) scanned.', { minimum: 0 }),
    critical: integer('Distinct CRITICAL findings.', { minimum: 0 }),
    high: integer('Distinct HIGH findings.', { minimum: 0 }),
    medium: integer('Distinct MEDIUM findings.', { minimum: 0 }),
    low: integer('Distinct LOW findings.', { minimum: 0 }),
    unknown: integer('Distinct findings of unknown severity.', { minimum: 0 }),
    blocked: array('Versions the scan policy refused (version/os_arch): not stored, not served.', string('A blocked version and platform.', { maxLength: 160 }), {
      maxItems: 1000,
      listType: 'set',
    }),
    findings: array('The distinct findings (at most 200, most severe first).', providerFindingSchema, { maxItems: 200 }),
    truncated: boolean('True when there are more distinct findings than listed.'),
    sources: array(
      "The source scan of each version (once per version, by its first platform's Version): Scanned, NotFound (no repository or tag found; the binaries are still scanned and served) or Failed (retried on the next verification).",
      object(
        'The source scan of one version.',
        {
          version: versionString('The provider version.'),
          state: enumeration('Scanned, NotFound or Failed.', SOURCE_SCAN_STATES),
          repository: string('The source repository scanned.', { maxLength: 2048 }),
          message: string('Why it was not found or not scanned.', { maxLength: 1024 }),
        },
        { required: ['version', 'state'] },
      ),
      { maxItems: 100, listType: 'map', mapKeys: ['version'] },
    ),
  },
);

/** `status` of a Provider. */
export const providerStatusSchema = object('What the operator last observed.', {
  ...syncStatusFields,
  ...integrityStatusFields,
  latestVersion: versionString('Highest version that is stored and verified for every wanted platform.'),
  platforms: array(
    'Progress per platform: how many of the wanted versions are stored and verified for each operating system and architecture.',
    object(
      'One platform.',
      {
        platform: string('Operating system and architecture, e.g. linux_amd64.', { pattern: '^[a-z0-9]+_[a-z0-9]+$', maxLength: 32 }),
        versionsSynced: integer('Versions stored and verified for this platform.', { minimum: 0, format: 'int64' }),
        versionsTotal: integer('Versions wanted for this platform.', { minimum: 0, format: 'int64' }),
        ready: boolean('True when every wanted version is stored and verified for this platform.'),
        message: string('Why the platform is not ready, when it is not.', { maxLength: 1024 }),
      },
      { required: ['platform'] },
    ),
    { maxItems: 24, listType: 'map', mapKeys: ['platform'] },
  ),
  scan: providerScanStatusSchema,
});

export type ProviderConfig = Static<typeof providerConfigSchema>;
export type ProviderSpec = Static<typeof providerSpecSchema>;
export type ProviderStatus = Static<typeof providerStatusSchema>;
export type ProviderScanStatus = Static<typeof providerScanStatusSchema>;
export type ProviderFinding = Static<typeof providerFindingSchema>;
/** A Provider object. */
export type Provider = Resource<'Provider', ProviderSpec, ProviderStatus>;

/** The storage config a Provider sets itself (either place), before Depot and chart defaults. */
export function providerStorageConfig(spec: ProviderSpec): StorageConfig | undefined {
  return spec.storageConfig ?? spec.providerConfig.storageConfig;
}

/** The Provider kind. */
export const providerKind: KindDefinition = {
  kind: 'Provider',
  plural: 'providers',
  singular: 'provider',
  shortNames: ['odp'],
  description:
    'A Provider of the registry: where its releases come from, which platforms to mirror, where the archives are stored, and which versions to serve. The operator creates one Version per version, operating system and architecture.',
  spec: providerSpecSchema,
  status: providerStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Latest', type: 'string', jsonPath: '.status.latestVersion', description: 'Highest version that is stored and verified.' },
    { name: 'Synced', type: 'string', jsonPath: '.status.progress', description: 'Versions stored and verified / versions wanted.' },
    integrityColumn,
    { name: 'Critical', type: 'integer', jsonPath: '.status.scan.critical', description: 'Distinct CRITICAL scan findings.', priority: 1 },
    { name: 'High', type: 'integer', jsonPath: '.status.scan.high', description: 'Distinct HIGH scan findings.', priority: 1 },
    { name: 'Upstream', type: 'string', jsonPath: '.spec.providerConfig.namespace', description: 'Upstream namespace.', priority: 1 },
    ageColumn,
  ],
};
