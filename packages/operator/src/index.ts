/**
 * `@opendepot/operator`: the controllers that turn Modules (and later Providers and Depots) into
 * stored, verified Versions, and the runtime they run on.
 * @packageDocumentation
 */
export { startOperator, type OperatorOptions, type RunningOperator } from './operator.ts';
export * from './controllers/naming.ts';
export { planModule, wantedVersions, type ModulePlan } from './controllers/module-plan.ts';
export * as runtime from './runtime/index.ts';
export * as sources from './sources/index.ts';
export * as archive from './archive/index.ts';
