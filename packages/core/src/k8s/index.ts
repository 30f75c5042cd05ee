/**
 * OpenDepot's Kubernetes layer, shared by the operator and the server: a client made from a
 * kubeconfig, typed CRUD of any kind, and self-healing informers (list + watch caches).
 */
export * from './types.ts';
export * from './errors.ts';
export * from './backoff.ts';
export * from './resources.ts';
export * from './connection.ts';
export * from './kubeconfig.ts';
export { inClusterConnection, runsInCluster } from './in-cluster.ts';
export * from './client.ts';
export * from './crud.ts';
export * from './informer.ts';
export * from './logger-adapter.ts';
export * from './namespaces-informer.ts';
