/** Private test bed: the real components OpenDepot's tests run against. */
export * from './tools.ts';
export * from './ports.ts';
export * from './processes.ts';
export * from './kubectl.ts';
export * from './control-plane.ts';
export * from './tls.ts';
export * from './github-standin.ts';
export * from './git-repo.ts';
export * from './registry-client.ts';
export * from './azurite.ts';
export * from './fake-gcs.ts';
export * from './pgp.ts';
export * from './provider-zip.ts';
export * from './hashicorp-releases-standin.ts';
export * from './provider-registry-standin.ts';
export * from './minio.ts';
export * from './namespaces.ts';
