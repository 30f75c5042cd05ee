/** Helpers of the runtime tests: namespaces, minimal objects, waiting. */
import { randomBytes } from 'node:crypto';
import type { Module, Version } from '@opendepot/core';
import { kubectl, type ControlPlane } from '@opendepot/testbed';

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a fresh namespace (there is no namespace controller: remove objects by name after). */
export async function freshNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(4).toString('hex')}`;
  const r = await kubectl(cp, ['create', 'namespace', ns]);
  if (r.code !== 0) throw new Error(r.stderr);
  return ns;
}

/** Deletes the objects of `ns` the runtime tests create (finalizers cleared), then the namespace. */
export async function dropNamespace(cp: ControlPlane, ns: string): Promise<void> {
  const kinds = 'modules,versions,leases,events';
  const names = await kubectl(cp, ['get', '-n', ns, 'modules,versions', '-o', 'name']);
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
