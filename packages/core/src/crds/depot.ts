/** The Depot kind: pull-based mirroring of upstream modules and providers by version constraints. */
import { scanningSpecSchema } from './scanning.ts';
import { githubClientConfigSchema, syncStatusFields } from './common.ts';
import { moduleConfigFields, moduleRepositoryRules } from './module.ts';
import { providerConfigFields, providerSourceRules } from './provider.ts';
import { ageColumn, readyColumn, type KindDefinition, type Resource } from './resource.ts';
import { array, boolean, describe, enumeration, integer, object, string, type Static } from './schema.ts';
import { storageConfigSchema } from './storage.ts';

/** `spec.global`: defaults for every Module and Provider the Depot manages. */
export const depotGlobalSchema = object("Defaults for every Module and Provider this Depot manages; an entry's own settings win.", {
  githubClientConfig: githubClientConfigSchema,
  moduleConfig: object('Module defaults.', {
    fileFormat: moduleConfigFields.fileFormat,
    immutable: moduleConfigFields.immutable,
    versionHistoryLimit: moduleConfigFields.versionHistoryLimit,
    source: moduleConfigFields.source,
  }),
  storageConfig: describe(storageConfigSchema, `${storageConfigSchema.json.description} Unset: the chart's default.`),
  providerConfig: object(
    'Provider defaults.',
    {
      namespace: providerConfigFields.namespace,
      operatingSystems: providerConfigFields.operatingSystems,
      architectures: providerConfigFields.architectures,
      source: providerConfigFields.source,
      registryUrl: providerConfigFields.registryUrl,
      immutable: providerConfigFields.immutable,
      versionHistoryLimit: providerConfigFields.versionHistoryLimit,
    },
    { rules: providerSourceRules },
  ),
});

/** One entry of `spec.moduleConfigs`. */
export const depotModuleConfigSchema = object(
  'A module to mirror. The Depot creates or updates a Module named after it, listing the upstream versions that match versionConstraints.',
  {
    ...moduleConfigFields,
    storageConfig: describe(storageConfigSchema, `${storageConfigSchema.json.description} Unset: global.storageConfig, else the chart's default.`),
    githubClientConfig: describe(githubClientConfigSchema, `${githubClientConfigSchema.json.description} Unset: global.githubClientConfig.`),
    scanning: describe(scanningSpecSchema, `${scanningSpecSchema.json.description} Copied to the Module's spec.scanning.`),
  },
  { required: ['name', 'provider', 'versionConstraints'], rules: moduleRepositoryRules },
);

/** One entry of `spec.providerConfigs`. */
export const depotProviderConfigSchema = object(
  'A provider to mirror. The Depot creates or updates a Provider named after it, listing the upstream versions that match versionConstraints.',
  {
    ...providerConfigFields,
    storageConfig: describe(storageConfigSchema, `${storageConfigSchema.json.description} Unset: global.storageConfig, else the chart's default.`),
    scanning: describe(scanningSpecSchema, `${scanningSpecSchema.json.description} Copied to the Provider's spec.scanning.`),
  },
  { required: ['name', 'versionConstraints'], rules: providerSourceRules },
);

const globalHas = (field: string) => `has(self.global) && has(self.global.providerConfig) && has(self.global.providerConfig.${field})`;

/** `spec` of a Depot. */
export const depotSpecSchema = object(
  'Upstream modules and providers to mirror, selected by version constraints, and how often to look for new releases.',
  {
    global: depotGlobalSchema,
    moduleConfigs: array('Modules to mirror.', depotModuleConfigSchema, { maxItems: 500, listType: 'map', mapKeys: ['name'] }),
    providerConfigs: array('Providers to mirror.', depotProviderConfigSchema, { maxItems: 200, listType: 'map', mapKeys: ['name'] }),
    pollingIntervalMinutes: integer('Minutes between checks for new upstream releases. Unset means check only when the Depot changes.', {
      minimum: 1,
      maximum: 525600,
    }),
  },
  {
    rules: [
      {
        rule: `!has(self.providerConfigs) || ${globalHas('operatingSystems')} || self.providerConfigs.all(p, has(p.operatingSystems))`,
        message: 'every providerConfigs entry needs operatingSystems unless global.providerConfig.operatingSystems sets them',
        fieldPath: '.providerConfigs',
      },
      {
        rule: `!has(self.providerConfigs) || ${globalHas('architectures')} || self.providerConfigs.all(p, has(p.architectures))`,
        message: 'every providerConfigs entry needs architectures unless global.providerConfig.architectures sets them',
        fieldPath: '.providerConfigs',
      },
    ],
  },
);

/** `status` of a Depot. */
export const depotStatusSchema = object('What the operator last observed.', {
  ...syncStatusFields,
  modules: array('Names of the Modules this Depot manages.', string('A Module name.', { maxLength: 253 }), { maxItems: 500 }),
  providers: array('Names of the Providers this Depot manages.', string('A Provider name.', { maxLength: 253 }), { maxItems: 200 }),
  moduleCount: integer('How many Modules this Depot manages.', { minimum: 0 }),
  providerCount: integer('How many Providers this Depot manages.', { minimum: 0 }),
  lastPollTime: string('When upstream releases were last checked.', { format: 'date-time' }),
  nextPollTime: string('When upstream releases will be checked next; unset when pollingIntervalMinutes is unset.', { format: 'date-time' }),
  lastHandledPollRequest: string('The value of the opendepot.defdev.io/requested-poll annotation last acted on.', { maxLength: 256 }),
  entries: array(
    'One line per moduleConfigs and providerConfigs entry: what it manages, what upstream offered, what was selected, and its own condition, so one failing upstream never hides the others.',
    object(
      'One entry of the Depot.',
      {
        kind: enumeration('Module or Provider.', ['Module', 'Provider'] as const),
        name: string('The entry name, which is also the name of the Module or Provider it manages.', { maxLength: 253 }),
        versionsFound: integer('Versions the upstream offers.', { minimum: 0 }),
        versionsSelected: integer('Of those, versions that match versionConstraints.', { minimum: 0 }),
        latestSelected: string('Highest selected version.', { maxLength: 128 }),
        lastPollTime: string('When this entry last polled its upstream successfully.', { format: 'date-time' }),
        ready: boolean('True when the last poll of this entry succeeded and its Module or Provider is up to date.'),
        reason: string('CamelCase reason of the last outcome, e.g. Synced, SourceUnavailable, NotFound, InvalidSpec (the reason table in core).', { maxLength: 128 }),
        message: string('What happened at the last poll of this entry.', { maxLength: 2048 }),
      },
      { required: ['kind', 'name'] },
    ),
    { maxItems: 700 },
  ),
});

export type DepotSpec = Static<typeof depotSpecSchema>;
export type DepotStatus = Static<typeof depotStatusSchema>;
export type DepotGlobal = Static<typeof depotGlobalSchema>;
export type DepotModuleConfig = Static<typeof depotModuleConfigSchema>;
export type DepotProviderConfig = Static<typeof depotProviderConfigSchema>;
/** A Depot object. */
export type Depot = Resource<'Depot', DepotSpec, DepotStatus>;

/** The Depot kind. */
export const depotKind: KindDefinition = {
  kind: 'Depot',
  plural: 'depots',
  singular: 'depot',
  shortNames: ['odd'],
  description:
    'A Depot mirrors upstream modules and providers: it lists their releases, keeps those that match the version constraints, and creates or updates Modules and Providers for them. Deleting a Depot leaves those Modules and Providers in place.',
  spec: depotSpecSchema,
  status: depotStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Modules', type: 'integer', jsonPath: '.status.moduleCount', description: 'Modules this Depot manages.' },
    { name: 'Providers', type: 'integer', jsonPath: '.status.providerCount', description: 'Providers this Depot manages.' },
    { name: 'Last Poll', type: 'date', jsonPath: '.status.lastPollTime', description: 'When upstream releases were last checked.' },
    ageColumn,
  ],
};
