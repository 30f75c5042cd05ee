/** Helpers of the Kubernetes-layer tests: namespaces, a minimal Module, waiting. */
import type { Module } from '../src/crds/index.ts';

// Namespaces and polling come from the test bed; waitUntil is its `eventually`.
export { dropNamespace, eventually as waitUntil, freshNamespace } from '@opendepot/testbed';

/** A minimal valid Module. */
export function moduleObject(namespace: string, name: string, versions: string[] = ['1.0.0']): Module {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name, namespace },
    spec: {
      moduleConfig: { name, provider: 'aws', repoOwner: 'example' },
      versions: versions.map((version) => ({ version })),
    },
  };
}
