/**
 * `@opendepot/sdk`: the contract between OpenDepot and its plugins. It has no runtime
 * dependencies; a third-party plugin needs nothing else from OpenDepot.
 * @packageDocumentation
 */
export * from './errors.ts';
export type * from './context.ts';
export type * from './storage.ts';
export * from './storage-guard.ts';
export type * from './archive-source.ts';
export * from './scanner.ts';
export type * from './auth.ts';
export * from './plugin.ts';
export * from './abort.ts';
export * from './hosts.ts';
