/** Helpers of the Kubernetes-layer tests: namespaces, a minimal Module, waiting. */
import { randomBytes } from 'node:crypto';
import { kubectl, type ControlPlane } from '@opendepot/testbed';
import type { Module } from '../src/crds/index.ts';

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Creates a fresh namespace (there is no namespace controller: remove objects by name after). */
export async function freshNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(4).toString('hex')}`;
  const r = await kubectl(cp, ['create', 'namespace', ns]);
  if (r.code !== 0) throw new Error(r.stderr);
  return ns;
}

/** Deletes every OpenDepot object of `ns` (finalizers cleared), then the namespace. */
export async function dropNamespace(cp: ControlPlane, ns: string): Promise<void> {
  const kinds = 'modules,versions,providers,depots,groupbindings';
  const names = await kubectl(cp, ['get', '-n', ns, kinds, '-o', 'name']);
  for (const name of names.stdout.split('\n').filter(Boolean)) {
    await kubectl(cp, ['patch', '-n', ns, name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(cp, ['delete', '-n', ns, kinds, '--all', '--wait=false']);
  await kubectl(cp, ['delete', 'namespace', ns, '--wait=false']);
}

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
