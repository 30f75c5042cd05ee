/**
 * Turns a kubeconfig (a file, `$KUBECONFIG`, `~/.kube/config`) or the pod's service account into
 * a {@link KubeConnection}, without @kubernetes/client-node: it alone costs ~65 MB of memory and
 * seconds of start-up. Users it does not cover (exec plugins, auth-provider, proxy-url,
 * impersonation) come out as `client-node` credentials, and only they load it.
 */
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { KubeConnection, KubeCredentials, KubeTls } from './connection.ts';
import { inClusterConnection, runsInCluster, serviceAccountNamespace } from './in-cluster.ts';
import { kubeconfigDocument, readKubeconfigFiles, type KubeconfigCluster, type KubeconfigUser, type MergedKubeconfig } from './kubeconfig-files.ts';

/** Where the connection comes from. With nothing set: `$KUBECONFIG`, `~/.kube/config`, then in-cluster. */
export interface KubeConnectionSource {
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  inCluster?: boolean;
  /** A context of the kubeconfig other than its current one. */
  context?: string;
}

/** User fields only @kubernetes/client-node handles. */
const DELEGATED_USER_FIELDS = ['exec', 'auth-provider', 'as', 'as-groups', 'as-uid', 'as-user-extra'];

/** The kubeconfig files the default discovery reads, or undefined when there are none. */
function defaultKubeconfigFiles(env: NodeJS.ProcessEnv): string[] | undefined {
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME || homedir();
  const file = join(home, '.kube', 'config');
  return existsSync(file) ? [file] : undefined;
}

/** Loads the connection the source names. */
export function loadKubeConnection(source: KubeConnectionSource = {}, env: NodeJS.ProcessEnv = process.env): KubeConnection {
  if (source.kubeconfigPath) return fromKubeconfig(readKubeconfigFiles([source.kubeconfigPath]), source.context);
  if (source.inCluster) return inClusterConnection(env);
  const files = defaultKubeconfigFiles(env);
  if (files) return fromKubeconfig(readKubeconfigFiles(files), source.context);
  if (runsInCluster(env)) return inClusterConnection(env);
  throw new Error('no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account');
}

/** PEM from a `<field>` file or a base64 `<field>-data`; the file wins, as in client-go. */
function pem(entry: Record<string, unknown>, field: string, where: string): Buffer | undefined {
  const file = entry[field];
  if (typeof file === 'string' && file !== '') {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${where}: ${field} ${file} is not readable`, { cause: err });
    }
  }
  const data = entry[`${field}-data`];
  return typeof data === 'string' && data !== '' ? Buffer.from(data, 'base64') : undefined;
}

/** How the server's certificate is verified. */
function clusterTls(cluster: KubeconfigCluster, name: string): KubeTls {
  const tls: KubeTls = {};
  const ca = pem(cluster, 'certificate-authority', `cluster ${name}`);
  if (ca) tls.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) tls.insecureSkipVerify = true;
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '') tls.serverName = cluster['tls-server-name'];
  return tls;
}

function tlsOf(cluster: KubeconfigCluster, user: KubeconfigUser, where: { cluster: string; user: string }): KubeTls {
  const tls = clusterTls(cluster, where.cluster);
  const cert = pem(user, 'client-certificate', `user ${where.user}`);
  const key = pem(user, 'client-key', `user ${where.user}`);
  if ((cert === undefined) !== (key === undefined)) throw new Error(`user ${where.user}: client-certificate and client-key go together; set both or neither`);
  if (cert && key) Object.assign(tls, { cert, key });
  return tls;
}

function credentialsOf(user: KubeconfigUser): KubeCredentials {
  if (typeof user.token === 'string' && user.token !== '') return { kind: 'token', token: user.token };
  if (typeof user.tokenFile === 'string' && user.tokenFile !== '') return { kind: 'token-file', path: user.tokenFile };
  if (typeof user.username === 'string' && user.username !== '') return { kind: 'basic', username: user.username, password: typeof user.password === 'string' ? user.password : '' };
  return { kind: 'none' };
}

/** The connection of `contextName` (else the current context) of merged kubeconfig files. */
export function fromKubeconfig(merged: MergedKubeconfig, contextName?: string): KubeConnection {
  const files = merged.files.join(', ');
  const name = contextName ?? merged.currentContext;
  if (!name) throw new Error(`the kubeconfig (${files}) has no current-context: set one (kubectl config use-context) or name a context`);
  const context = merged.contexts.get(name);
  if (!context) throw new Error(`the kubeconfig (${files}) has no context named ${name} (contexts: ${[...merged.contexts.keys()].join(', ') || 'none'})`);
  const clusterName = context.cluster ?? '';
  const cluster = merged.clusters.get(clusterName);
  if (!cluster?.server) throw new Error(`the kubeconfig has no current cluster: context ${name} names cluster "${clusterName}", which has no server in ${files}`);
  const userName = context.user ?? '';
  const user = merged.users.get(userName) ?? {};
  const namespace = context.namespace || serviceAccountNamespace() || 'default';
  const delegated = [...DELEGATED_USER_FIELDS.filter((f) => user[f] !== undefined), ...(cluster['proxy-url'] ? ['proxy-url'] : [])];
  if (delegated.length > 0) {
    // The cluster's verification is still read here: the server's kubeconfig tokens reuse it.
    return {
      server: cluster.server,
      namespace,
      tls: clusterTls(cluster, clusterName),
      credentials: { kind: 'client-node', reason: delegated.join(', '), kubeconfig: kubeconfigDocument(merged, name) },
    };
  }
  return { server: cluster.server, namespace, tls: tlsOf(cluster, user, { cluster: clusterName, user: userName }), credentials: credentialsOf(user) };
}
