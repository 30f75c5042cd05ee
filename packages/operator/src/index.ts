/**
 * `@opendepot/operator`: the controllers that turn Modules (and later Providers and Depots) into
 * stored, verified Versions, and the runtime they run on.
 * @packageDocumentation
 */
export { startOperator, type OperatorOptions, type RunningOperator } from './operator.ts';
export * from './controllers/naming.ts';
export { planModule, wantedVersions, type ModulePlan } from './controllers/module-plan.ts';
export * as runtime from './runtime/index.ts';
export { moduleSourceName, providerSourceName } from './controllers/source-names.ts';
export { UnknownSourceError, type ArchiveSources } from './archive-sources/lookup.ts';
