/** `@opendepot/core`: OpenDepot's domain, shared by the operator and the server. */
export * from './constraints/index.ts';
