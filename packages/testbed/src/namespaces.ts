/**
 * Test namespaces on the shared control plane. There is no namespace controller in the test bed
 * (as in envtest), so a namespace never finishes terminating while objects in it hold
 * finalizers: cleaning up clears them first.
 */
import { randomBytes } from 'node:crypto';
import { kubectl } from './kubectl.ts';

const OPENDEPOT_KINDS = ['modules', 'versions', 'providers', 'depots', 'groupbindings'];

/** Creates a namespace named `<prefix>-<random>`. */
export async function freshNamespace(plane: { kubeconfigPath: string }, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(4).toString('hex')}`;
  const r = await kubectl(plane, ['create', 'namespace', ns]);
  if (r.code !== 0) throw new Error(r.stderr);
  return ns;
}

/** Deletes every OpenDepot object of `ns` (finalizers cleared) and `extraKinds`, then the namespace. */
export async function dropNamespace(plane: { kubeconfigPath: string }, ns: string, extraKinds: string[] = []): Promise<void> {
  const names = await kubectl(plane, ['get', '-n', ns, OPENDEPOT_KINDS.join(','), '-o', 'name']);
  for (const name of names.stdout.split('\n').filter(Boolean)) {
    await kubectl(plane, ['patch', '-n', ns, name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(plane, ['delete', '-n', ns, [...OPENDEPOT_KINDS, ...extraKinds].join(','), '--all', '--wait=false']);
  await kubectl(plane, ['delete', 'namespace', ns, '--wait=false']);
}
