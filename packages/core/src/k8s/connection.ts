/**
 * What a client needs to reach one API server: its URL, the TLS material, the credentials and the
 * default namespace. Made from a kubeconfig (kubeconfig.ts) or the pod's service account
 * (in-cluster.ts), or built directly (the server's kubeconfig tokens).
 */

/** TLS material of the connection; buffers are PEM. */
export interface KubeTls {
  /** CA bundle the server's certificate must chain to; the system's when absent. */
  ca?: Buffer;
  /** Client certificate and key, for certificate authentication. */
  cert?: Buffer;
  key?: Buffer;
  /** `insecure-skip-tls-verify`: accept any server certificate. */
  insecureSkipVerify?: boolean;
  /** `tls-server-name`: the name to verify the server's certificate against. */
  serverName?: string;
}

/** How requests authenticate (a client certificate, if any, is in {@link KubeTls}). */
export type KubeCredentials =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** A token re-read from its file, so a rotated service-account token is picked up. */
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  /**
   * What only @kubernetes/client-node handles (exec plugins, auth-provider, proxy-url,
   * impersonation): `kubeconfig` is the merged document with its current context set.
   */
  | { kind: 'client-node'; reason: string; kubeconfig: string };

/** A connection to one API server. */
export interface KubeConnection {
  /** Base URL of the API server. */
  server: string;
  /** The namespace of the kubeconfig's context, or of the pod's service account, else `default`. */
  namespace: string;
  tls: KubeTls;
  credentials: KubeCredentials;
}
