/**
 * The pod's own connection: `KUBERNETES_SERVICE_HOST`/`_PORT`, and the service account's token,
 * CA and namespace mounted under /var/run/secrets/kubernetes.io/serviceaccount. The token is
 * named by its file, not read once: kubelet rotates it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { KubeConnection } from './connection.ts';

/** Where kubelet mounts the service account. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Whether this process runs in a pod with a service account mounted. */
export function runsInCluster(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) && existsSync(join(dir, 'token'));
}

/** The namespace of the pod's service account, if mounted. */
export function serviceAccountNamespace(dir = SERVICE_ACCOUNT_DIR): string | undefined {
  try {
    return readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The in-cluster connection; `dir` is the service account's mount (tests point it elsewhere). */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (pass a kubeconfig instead)');
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch (err) {
    throw new Error(`the service account CA ${join(dir, 'ca.crt')} is not readable: mount the service account token (automountServiceAccountToken)`, { cause: err });
  }
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    namespace: serviceAccountNamespace(dir) ?? 'default',
    tls: { ca },
    credentials: { kind: 'token-file', path: join(dir, 'token') },
  };
}
