/** `@opendepot/core`: OpenDepot's domain, shared by the operator and the server. */
export * from './constraints/index.ts';
export * from './crds/index.ts';
export * from './plugins/index.ts';
export * from './config/index.ts';
export * from './logging/index.ts';
export * from './errors/index.ts';
export * from './conditions/index.ts';
export * from './k8s/index.ts';
export * from './auth/index.ts';
export * from './module-docs/index.ts';
