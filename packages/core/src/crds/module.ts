/** The Module kind: one module of the registry and the versions of it to serve. */
import { githubClientConfigSchema, integrityStatusFields, syncStatusFields, versionsList, versionString, type GithubClientConfig } from './common.ts';
import { GITHUB_OWNER_PATTERN, MODULE_PROVIDER_PATTERN, REGISTRY_NAME_PATTERN, REPO_URL_PATTERN, SOURCE_NAME_PATTERN, VERSION_CONSTRAINTS_PATTERN } from './patterns.ts';
import { ageColumn, integrityColumn, readyColumn, type KindDefinition, type Resource } from './resource.ts';
import { array, boolean, describe, enumeration, integer, object, string, type Static, type ValidationRule } from './schema.ts';
import { scanningSpecSchema } from './scanning.ts';
import { storageConfigSchema, type StorageConfig } from './storage.ts';

/** Archive formats a module can be stored and served as. */
export const FILE_FORMATS = ['zip', 'tar.gz'] as const;
/** The first-party module sources; any other archive-source plugin is named the same way. */
export const MODULE_SOURCES = ['github', 'git'] as const;

/** What the operator assumes when a Module (or the Depot's global config) leaves a field out. */
export const MODULE_DEFAULTS = { fileFormat: 'zip', immutable: false } as const;

/** The fields of `moduleConfig`, shared with the Depot's `moduleConfigs[]` and `global.moduleConfig`. */
export const moduleConfigFields = {
  name: string('Module name in the registry address <host>/<namespace>/<name>/<provider>, e.g. terraform-aws-eks. Also the GitHub repository name when repoUrl is unset.', {
    pattern: REGISTRY_NAME_PATTERN,
  }),
  provider: string('Target system in the registry address <host>/<namespace>/<name>/<provider>, e.g. aws or azurerm.', {
    pattern: MODULE_PROVIDER_PATTERN,
  }),
  repoOwner: string('GitHub user or organisation that owns the repository. With name it gives https://github.com/<repoOwner>/<name> when repoUrl is unset.', {
    pattern: GITHUB_OWNER_PATTERN,
  }),
  repoUrl: string(
    'Repository of the module source: an https:// URL (e.g. https://github.com/my-org/terraform-aws-eks), a file:// URL, or an ssh git URL (ssh://git@host/owner/repo.git or git@host:owner/repo.git).',
    {
      maxLength: 2048,
      rules: [
        {
          rule: `self.matches(r'${REPO_URL_PATTERN}')`,
          message: 'repoUrl must be an https:// URL, a file:// URL, or an ssh git URL (ssh://git@host/owner/repo.git or git@host:owner/repo.git)',
        },
      ],
    },
  ),
  source: string(
    `The archive source that fetches versions: the name of an archive-source plugin. First-party (${MODULE_SOURCES.join(', ')}): github: release and tag archives through the GitHub API; git: clone repoUrl and archive the tag. Another name needs its plugin in the operator's plugins:, else the Module is Stalled. Default: github when repoUrl is unset or on github.com, else git.`,
    { pattern: SOURCE_NAME_PATTERN, maxLength: 63 },
  ),
  fileFormat: enumeration(`Archive format to store and serve: zip or tar.gz. Default: ${MODULE_DEFAULTS.fileFormat}.`, FILE_FORMATS),
  immutable: boolean(
    `Once a version is stored and verified its bytes never change. On every verify (operator.verifyIntervalSeconds) and on forceSync the operator compares the upstream archive with the recorded sha256; when it differs (a moved tag, a re-published release) nothing is stored: the Version keeps serving the stored archive, gets the condition UpstreamChanged=True (reason ImmutableViolation) and a Warning Event, and the Module shows it in its UpstreamChanged condition, status.integrityProblems and the Integrity column, while Ready stays True. Storage and presign settings still follow the Module (at a new storage location the stored archive is copied from the old one, else fetched from the source, accepting only the recorded sha256). Default: ${MODULE_DEFAULTS.immutable}.`,
  ),
  versionConstraints: string(
    'OpenTofu version constraints, e.g. ">= 21.10.1, != 21.13.0" (comma means and). On a Depot entry it selects the upstream versions to mirror; on a Module it records that selection (the versions served are the ones in spec.versions).',
    { pattern: VERSION_CONSTRAINTS_PATTERN, maxLength: 1024 },
  ),
  versionHistoryLimit: integer('Keep only the newest N versions; older Versions and their archives are removed. Unset keeps every version.', {
    minimum: 1,
    maximum: 10000,
  }),
  // OpenDepot 0.x manifests (and the announcement's examples) nest these two in moduleConfig.
  storageConfig: describe(
    storageConfigSchema,
    `${storageConfigSchema.json.description} On a Module it may be set here (as OpenDepot 0.x manifests do) or at spec.storageConfig, not both. Unset: the Depot's global storageConfig, else the chart's default.`,
  ),
  githubClientConfig: describe(
    githubClientConfigSchema,
    `${githubClientConfigSchema.json.description} On a Module it may be set here (as OpenDepot 0.x manifests do) or at spec.githubClientConfig, not both.`,
  ),
};

/** CEL rules of any module config that names a repository. */
export const moduleRepositoryRules: readonly ValidationRule[] = [
  {
    rule: 'has(self.repoUrl) || has(self.repoOwner)',
    message: 'set repoUrl, or repoOwner for the GitHub repository https://github.com/<repoOwner>/<name>',
  },
  {
    rule: "!has(self.source) || self.source != 'git' || has(self.repoUrl)",
    message: 'source git needs repoUrl',
  },
];

/** `spec.moduleConfig` of a Module. */
export const moduleConfigSchema = object('What the module is and where its source lives.', moduleConfigFields, {
  required: ['name', 'provider'],
  rules: moduleRepositoryRules,
});

/** `spec` of a Module. */
export const moduleSpecSchema = object(
  'The module and the versions of it the registry serves.',
  {
    moduleConfig: moduleConfigSchema,
    storageConfig: describe(
      storageConfigSchema,
      `${storageConfigSchema.json.description} May be set here or at spec.moduleConfig.storageConfig, not both. Unset: the Depot's global storageConfig, else the chart's default.`,
    ),
    githubClientConfig: describe(githubClientConfigSchema, `${githubClientConfigSchema.json.description} May be set here or at spec.moduleConfig.githubClientConfig, not both.`),
    versions: versionsList('Versions to fetch, store and serve; the operator creates one Version resource for each. Removing an entry removes its Version.'),
    forceSync: boolean('Set true to fetch, verify and store every version again (for example after restoring storage). The operator resets it to false when done.'),
    scanning: scanningSpecSchema,
  },
  {
    required: ['moduleConfig'],
    rules: [
      {
        rule: '!(has(self.storageConfig) && has(self.moduleConfig.storageConfig))',
        message: 'set storageConfig either at spec.storageConfig or at spec.moduleConfig.storageConfig, not both',
        fieldPath: '.storageConfig',
      },
      {
        rule: '!(has(self.githubClientConfig) && has(self.moduleConfig.githubClientConfig))',
        message: 'set githubClientConfig either at spec.githubClientConfig or at spec.moduleConfig.githubClientConfig, not both',
        fieldPath: '.githubClientConfig',
      },
    ],
  },
);

/** `status.scan` of a Module: its Versions' scan summaries added up. */
export const moduleScanStatusSchema = object("Security scans of this module's versions, added up; each Version's status.scan has its own summary and the key of its full report.", {
  scannedVersions: integer('Versions scanned.', { minimum: 0 }),
  critical: integer('CRITICAL findings over all scanned versions.', { minimum: 0 }),
  high: integer('HIGH findings over all scanned versions.', { minimum: 0 }),
  medium: integer('MEDIUM findings over all scanned versions.', { minimum: 0 }),
  low: integer('LOW findings over all scanned versions.', { minimum: 0 }),
  unknown: integer('Findings of unknown severity over all scanned versions.', { minimum: 0 }),
  blockedVersions: array('Versions the scan policy refused (not stored, not served).', versionString('A blocked version.'), { maxItems: 1000, listType: 'set' }),
});

/** `status` of a Module. */
export const moduleStatusSchema = object('What the operator last observed.', {
  ...syncStatusFields,
  ...integrityStatusFields,
  latestVersion: versionString('Highest version that is stored and verified.'),
  scan: moduleScanStatusSchema,
});

export type ModuleConfig = Static<typeof moduleConfigSchema>;
export type ModuleSpec = Static<typeof moduleSpecSchema>;
export type ModuleStatus = Static<typeof moduleStatusSchema>;
export type FileFormat = (typeof FILE_FORMATS)[number];
/** A Module object. */
export type Module = Resource<'Module', ModuleSpec, ModuleStatus>;

/** The storage config a Module sets itself (either place), before Depot and chart defaults. */
export function moduleStorageConfig(spec: ModuleSpec): StorageConfig | undefined {
  return spec.storageConfig ?? spec.moduleConfig.storageConfig;
}

/** The GitHub client config a Module sets itself (either place). */
export function moduleGithubClientConfig(spec: ModuleSpec): GithubClientConfig | undefined {
  return spec.githubClientConfig ?? spec.moduleConfig.githubClientConfig;
}

/** The Module kind. */
export const moduleKind: KindDefinition = {
  kind: 'Module',
  plural: 'modules',
  singular: 'module',
  shortNames: ['odm'],
  description: 'A Module of the registry: where its source lives, where its archives are stored, and which versions to serve. The operator creates one Version per listed version.',
  spec: moduleSpecSchema,
  status: moduleStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Latest', type: 'string', jsonPath: '.status.latestVersion', description: 'Highest version that is stored and verified.' },
    { name: 'Synced', type: 'string', jsonPath: '.status.progress', description: 'Versions stored and verified / versions wanted.' },
    integrityColumn,
    { name: 'Provider', type: 'string', jsonPath: '.spec.moduleConfig.provider', description: 'Target system.', priority: 1 },
    { name: 'Source', type: 'string', jsonPath: '.spec.moduleConfig.repoUrl', description: 'Repository URL.', priority: 1 },
    ageColumn,
  ],
};
