/** Helpers of the runtime tests: namespaces, minimal objects, waiting. */
import type { Module, Version } from '@opendepot/core';
import { dropNamespace as dropTestNamespace, type ControlPlane } from '@opendepot/testbed';

// Polling comes from the test bed; waitUntil is its `eventually`.
export { eventually as waitUntil, freshNamespace } from '@opendepot/testbed';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes the objects of `ns` the runtime tests create (finalizers cleared), then the namespace. */
export function dropNamespace(cp: ControlPlane, ns: string): Promise<void> {
  return dropTestNamespace(cp, ns, ['leases', 'events']);
}

/** A minimal valid Module. */
export function moduleObject(namespace: string, name: string, versions: string[] = ['1.0.0']): Module {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name, namespace },
    spec: { moduleConfig: { name, provider: 'aws', repoOwner: 'example' }, versions: versions.map((version) => ({ version })) },
  };
}

/** A minimal valid module Version. */
export function versionObject(namespace: string, moduleName: string, version: string, owner?: Module): Version {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Version',
    metadata: {
      name: `${moduleName}-${version}`,
      namespace,
      ...(owner ? { ownerReferences: [{ apiVersion: owner.apiVersion, kind: 'Module', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }] } : {}),
    },
    spec: {
      kind: 'Module',
      ownerName: moduleName,
      version,
      module: { name: moduleName, provider: 'aws', repoOwner: 'example' },
      fileFormat: 'zip',
      storageConfig: { filesystem: { path: '/data' } },
    },
  };
}
