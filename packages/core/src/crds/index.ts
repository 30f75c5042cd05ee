/**
 * OpenDepot's custom resources: one source of truth for the CRD schemas (rendered into the
 * Helm chart by `npm run gen:crds`) and the TypeScript types of their spec and status.
 */
export * from './schema.ts';
export * from './patterns.ts';
export * from './resource.ts';
export * from './common.ts';
export * from './storage.ts';
export * from './module.ts';
export * from './provider.ts';
export * from './scanning.ts';
export * from './version.ts';
export * from './storage-key.ts';
export * from './depot.ts';
export * from './groupbinding.ts';
export * from './render.ts';
