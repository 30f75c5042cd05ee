/** The host configuration: YAML file + `OPENDEPOT_*` environment, validated; JSON Schema helpers. */
export * from './host-config.ts';
export * from './env.ts';
export * from './config-error.ts';
export * from './load-config.ts';
export * from './json-schema.ts';
export * from './field-path.ts';
export * from './usage.ts';
export * from './storage-profiles.ts';
