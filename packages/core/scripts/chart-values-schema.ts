/**
 * The Helm chart's `values.schema.json`: every key of `charts/opendepot/values.yaml`, closed
 * (`additionalProperties: false`) wherever the object is the chart's own, so a misspelled value
 * fails `helm install` with its path. `config:` is derived from {@link hostConfigSchema}, closed at
 * every level the host itself treats as closed or warns about; objects Kubernetes defines
 * (securityContext, affinity, ...) are only typed. Written by `generate-chart-schema.ts`.
 */
import { hostConfigSchema } from '../src/config/host-config.ts';
import { presignSchema } from '../src/crds/storage.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

/** Where the committed schema lives, relative to the repository root. */
export const CHART_SCHEMA_PATH = 'charts/opendepot/values.schema.json';

function obj(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', description, additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const bool = (description: string): Schema => ({ type: 'boolean', description });
/** An object whose shape Kubernetes (or another project) defines. */
const k8s = (description: string): Schema => ({ type: 'object', description });
/** A list of objects whose shape Kubernetes defines. */
const k8sList = (description: string): Schema => ({ type: 'array', description, items: { type: 'object' } });
const stringMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const intOrPercent = (description: string): Schema => ({
  description,
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+%$' },
  ],
});

/** A Kubernetes storage quantity, e.g. 2Gi or 500M. */
const quantity = (description: string): Schema => str(description, { pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$' });

const resources = (description: string): Schema =>
  obj(description, {
    requests: k8s('Requested cpu and memory.'),
    limits: k8s('cpu and memory limits.'),
    claims: k8sList('Dynamic resource claims.'),
  });

const nodeArgs = (description: string): Schema => ({
  type: 'array',
  description,
  items: { type: 'string', pattern: '^--[a-z0-9][a-z0-9-]*(=\\S+)?$' },
});
const strategy = (description: string): Schema =>
  obj(description, {
    type: { enum: ['RollingUpdate', 'Recreate'], description: 'Deployment strategy type.' },
    rollingUpdate: obj('Rolling update parameters.', {
      maxSurge: intOrPercent('Pods above replicas during an update.'),
      maxUnavailable: intOrPercent('Pods below replicas during an update.'),
    }),
  });

/** Scheduling values both Deployments take. */
const placement = (): Record<string, Schema> => ({
  podAnnotations: stringMap('Extra annotations of the pods.'),
  priorityClassName: str('PriorityClass of the pods; empty for none.'),
  nodeSelector: stringMap('Node labels the pods must match.'),
  tolerations: k8sList('Tolerations of the pods.'),
  affinity: k8s('Affinity of the pods.'),
  spreadTopologyKeys: {
    type: 'array',
    description: 'Node labels to spread the pods over, softly (maxSkew 1, ScheduleAnyway); the chart fills in the pod selector.',
    items: { type: 'string', minLength: 1 },
    uniqueItems: true,
  },
  topologySpreadConstraints: k8sList('Full TopologySpreadConstraints, added as given.'),
});

const networkPolicyFor = (what: string, extra: Record<string, Schema> = {}): Schema =>
  obj(`NetworkPolicy of the ${what}.`, {
    from: k8sList(`NetworkPolicyPeers allowed to reach the ${what}; empty: from anywhere.`),
    egress: k8sList('NetworkPolicyEgressRules; empty leaves egress open, otherwise only these are allowed.'),
    ...extra,
  });

// As packages/operator/src/install-plugins.ts accepts them.
const NPM_NAME = '^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$';
const EXACT_VERSION = '^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$';
const SHA512_SRI = '^sha512-[A-Za-z0-9+/]{86}==$';

/**
 * The host configuration schema as Helm validates it: Kubernetes-only keywords dropped, and every
 * object with declared properties closed unless it keeps unknown fields on purpose (storageConfig,
 * whose other keys name storage plugins). Plugin `config` objects declare no properties: open.
 */
export function helmConfigSchema(schema: unknown = hostConfigSchema): Schema {
  const convert = (node: unknown): Json => {
    if (Array.isArray(node)) return node.map(convert);
    if (node === null || typeof node !== 'object') return node as Json;
    const out: Schema = {};
    const record = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      if (key.startsWith('x-kubernetes-')) continue;
      if (key === 'properties') {
        const props: Schema = {};
        for (const [name, child] of Object.entries(value as Record<string, unknown>)) props[name] = convert(child);
        out[key] = props;
      } else {
        out[key] = convert(value);
      }
    }
    if (record.properties !== undefined && record['x-kubernetes-preserve-unknown-fields'] !== true && record.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
    return out;
  };
  return convert(schema) as Schema;
}

const HTTP_URL = '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$';
const port = (description: string): Schema => int(description, { minimum: 1, maximum: 65535 });

/**
 * `dex:`, the values of the vendored Dex subchart (charts/opendepot/charts/dex), closed like the
 * chart's own: the chart also writes the server's `@opendepot/plugin-dex` entry from them.
 */
function dexValuesSchema(): Schema {
  const user = obj(
    "A user of Dex's password database.",
    {
      email: str('The login (Dex matches it case-insensitively).', { minLength: 1 }),
      hash: str('bcrypt hash of the password ($2a$/$2b$/$2y$, e.g. htpasswd -nbBC 10).', { pattern: '^\\$2[aby]?\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$' }),
      username: str('Display name.', { minLength: 1 }),
      userID: str("Stable id, the tokens' sub.", { minLength: 1 }),
      groups: { type: 'array', description: 'Groups Dex puts in the groups claim (what GroupBinding expressions see).', items: { type: 'string', minLength: 1 } },
      preferredUsername: str('preferred_username claim.'),
      emailVerified: { type: 'boolean', description: 'email_verified claim.' },
    },
    ['email', 'hash', 'username', 'userID'],
  );
  return obj("Dex (the vendored subchart) and the server's @opendepot/plugin-dex entry, both written from these values.", {
    enabled: bool("Install Dex and add @opendepot/plugin-dex to the server's plugins."),
    issuer: str("Dex's public issuer URL (browsers reach it during tofu login; tokens carry it in iss); required when enabled.", { pattern: `^$|${HTTP_URL}`, maxLength: 2048 }),
    clientId: str('The static public client tofu login uses (public: true, redirect URIs http://localhost:<p>/login for p in loginPorts).', { minLength: 1, maxLength: 256 }),
    loginPorts: {
      type: 'array',
      description: 'The loopback port range [min, max] of tofu login (login.v1 ports); min < max.',
      items: { type: 'integer', minimum: 1024, maximum: 65535 },
      minItems: 2,
      maxItems: 2,
    },
    browserRedirectURIs: {
      type: 'array',
      description: "More redirect URIs of the clientId client: the web UI's sign-in callback, <config.server.externalUrl>/ui/callback (e.g. https://registry.example.com/ui/callback).",
      items: { type: 'string', pattern: HTTP_URL, maxLength: 2048 },
      maxItems: 16,
    },
    internalIssuer: bool('The server reaches Dex through its in-cluster Service (plain HTTP, plugin-dex internalIssuerUrl and allowInsecureHttp) instead of the public issuer.'),
    staticPasswords: { type: 'array', description: "Users of Dex's password database; empty: no password login.", items: user },
    connectors: k8sList('Dex connectors, as Dex takes them (type, id, name, config).'),
    extraStaticClients: k8sList('More Dex static clients (e.g. a confidential one for CI; list its id in auth.dex.config.additionalAudiences).'),
    image: obj('The Dex image.', {
      repository: str('Image repository.', { minLength: 1 }),
      tag: str('Image tag.', { minLength: 1 }),
      pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'], description: 'Image pull policy.' },
    }),
    replicas: int('Replicas; more than 1 needs a shared storage (memory storage is per pod).', { minimum: 0 }),
    logLevel: { enum: ['debug', 'info', 'warn', 'error'], description: "Dex's log level." },
    storage: k8s("Dex's storage block; default {type: memory}."),
    expiry: k8s("Dex's expiry block (idTokens, signingKeys, ...)."),
    extraConfig: k8s('Further top-level Dex configuration, merged over the generated one.'),
    port: port('Container port of Dex (HTTP).'),
    telemetryPort: port('Container port of Dex health and metrics.'),
    service: obj('The Dex Service.', {
      type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], description: 'Service type.' },
      port: port('Service port.'),
      nodePort: { type: ['integer', 'null'], minimum: 1, maximum: 65535, description: 'NodePort, with type NodePort or LoadBalancer; null: assigned.' },
    }),
    resources: resources('Resources of the Dex container.'),
    podAnnotations: stringMap('Extra annotations of the Dex pod.'),
    nodeSelector: stringMap('Node labels the Dex pod must match.'),
    tolerations: k8sList('Tolerations of the Dex pod.'),
    affinity: k8s('Affinity of the Dex pod.'),
    podSecurityContext: k8s('PodSecurityContext of the Dex pod.'),
    securityContext: k8s('SecurityContext of the Dex container.'),
    global: k8s("Helm's global values."),
  });
}

/** The whole `values.schema.json`. */
export function chartValuesSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: 'Generated by packages/core/scripts/generate-chart-schema.ts from the chart values and packages/core/src/config/host-config.ts. Do not edit by hand.',
    ...obj('OpenDepot chart values.', {
      image: obj('The OpenDepot image (operator, server, init containers and the test pod).', {
        repository: str('Image repository.', { minLength: 1 }),
        tag: str("Image tag; empty means the chart's appVersion."),
        pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'], description: 'Image pull policy.' },
      }),
      imagePullSecrets: k8sList('LocalObjectReferences of image pull Secrets.'),
      config: {
        ...helmConfigSchema(),
        description:
          "The operator's and the server's configuration file (packages/core/src/config/host-config.ts). The chart sets namespace, server.port, server.metricsPort, server.host, server.tls, server.gpg and server.presign from its other values, and pluginsDir when pluginInstall.packages is set.",
      },
      pluginInstall: obj('Third-party plugins installed into an emptyDir by an init container at pod start.', {
        registry: { type: 'string', description: 'npm registry URL; empty means https://registry.npmjs.org/.', pattern: '^(https?://\\S+)?$' },
        packages: {
          type: 'array',
          description: 'Packages to install, each pinned by exact version and integrity. List them in config.plugins too.',
          items: obj(
            'One npm package.',
            {
              name: str('npm package name.', { pattern: NPM_NAME, maxLength: 214 }),
              version: str('Exact version, e.g. 1.2.0.', { pattern: EXACT_VERSION }),
              integrity: str("SHA-512 integrity of the tarball (the registry's dist.integrity), sha512-<base64>.", { pattern: SHA512_SRI }),
            },
            ['name', 'version', 'integrity'],
          ),
        },
        env: k8sList('Extra EnvVars of the install-plugins init container (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, ...).'),
        resources: resources('Resources of the install-plugins init container.'),
      }),
      operator: obj('The operator Deployment.', {
        replicas: int('Replicas; leader election lets one reconcile.', { minimum: 0 }),
        strategy: strategy('Deployment strategy.'),
        resources: resources('Resources of the operator container.'),
        nodeArgs: nodeArgs('Node.js and V8 flags before the entry point, e.g. --max-semi-space-size=1 (they replace the defaults).'),
        tmpSizeLimit: quantity('Size limit of the /tmp emptyDir, where the operator spools downloads, repacks and scans.'),
        ...placement(),
      }),
      auth: obj('Who may read what: the auth methods, asked in the order kubernetes, kubeconfig, auth plugins, anonymous.', {
        anonymous: obj('Anonymous access.', { enabled: bool('Everyone reads everything (default true).') }),
        kubernetes: obj('Kubernetes ServiceAccount tokens, authorized by RBAC get on the Module or Provider.', {
          enabled: bool('Accept Kubernetes tokens.'),
          audiences: { type: 'array', description: 'Audiences the TokenReview asks for; empty: the API server default.', items: { type: 'string', minLength: 1 } },
        }),
        kubeconfig: obj('A base64 kubeconfig as the token (local clusters only).', { enabled: bool('Accept base64 kubeconfigs; never in production.') }),
        downloadUrlSecretName: str('Secret with key download-url-secret that signs download URLs; empty: the chart makes <release>-download-url when anonymous access is off.'),
        dex: obj('OIDC tokens issued by Dex, checked by @opendepot/plugin-dex; GroupBindings decide.', {
          enabled: bool('Add @opendepot/plugin-dex for a Dex you run yourself (issuerUrl and clientId required); for the bundled Dex use dex.enabled.'),
          issuerUrl: str("Your Dex's issuer URL, exactly as tokens carry it in iss.", { pattern: `^$|${HTTP_URL}`, maxLength: 2048 }),
          clientId: str('The Dex static public client tofu login uses.', { maxLength: 256 }),
          config: k8s('More @opendepot/plugin-dex config (offlineAccess, additionalAudiences, clockSkewSeconds, ...), merged over what the chart writes; for either Dex.'),
        }),
      }),
      dex: dexValuesSchema(),
      server: obj('The registry server Deployment, Service and Ingress.', {
        replicas: int('Replicas.', { minimum: 0 }),
        port: int('Container port of the registry.', { minimum: 1, maximum: 65535 }),
        metricsPort: int('Container port of /metrics (config server.metricsPort); never the registry port.', { minimum: 1, maximum: 65535 }),
        strategy: strategy('Deployment strategy.'),
        preStopSleepSeconds: int('Seconds a stopping pod keeps serving before SIGTERM; 0 for none.', { minimum: 0, maximum: 300 }),
        podDisruptionBudget: obj('PodDisruptionBudget, rendered only with more than one replica.', {
          enabled: bool('Render the PodDisruptionBudget.'),
          minAvailable: intOrPercent('Pods that must stay available.'),
          maxUnavailable: intOrPercent('Pods that may be unavailable; replaces minAvailable when set.'),
        }),
        ...placement(),
        service: obj('The registry Service.', {
          type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], description: 'Service type.' },
          port: int('Service port.', { minimum: 1, maximum: 65535 }),
        }),
        ingress: obj('An Ingress for the registry host.', {
          enabled: bool('Render the Ingress.'),
          className: str('IngressClass name; empty for the cluster default.'),
          annotations: stringMap('Annotations of the Ingress.'),
          hosts: { type: 'array', description: 'Host names served (whole host, path /).', items: { type: 'string', minLength: 1 } },
          tls: {
            type: 'array',
            description: 'IngressTLS entries.',
            items: obj('One IngressTLS.', {
              secretName: str('kubernetes.io/tls Secret.'),
              hosts: { type: 'array', items: { type: 'string' }, description: 'Hosts of the certificate.' },
            }),
          },
        }),
        tls: obj('HTTPS in the server from a kubernetes.io/tls Secret.', {
          secretName: str('Secret name; empty means plain HTTP.'),
        }),
        presign: { ...helmConfigSchema(presignSchema.json), description: 'Chart-wide presign default (config server.presign); a storageConfig.presign wins over it.' },
        gpg: obj('The provider-signing key.', {
          secretName: str('Secret with private-key.asc (and passphrase); empty means providers are not served signed.'),
          passphrase: bool('The Secret has a passphrase key.'),
        }),
        resources: resources('Resources of the server container.'),
        nodeArgs: nodeArgs('Node.js and V8 flags before the entry point, e.g. --max-semi-space-size=1 (they replace the defaults).'),
        tmpSizeLimit: quantity('Size limit of the /tmp emptyDir of the server pods.'),
      }),
      persistence: obj('The ReadWriteMany volume for filesystem storage.', {
        enabled: bool('Mount a volume at mountPath in both pods.'),
        storageClassName: str('StorageClass of the claim; empty for the default.'),
        size: { type: ['string', 'integer'], description: 'Requested size, e.g. 20Gi.' },
        mountPath: str('Mount path in the containers.', { pattern: '^/' }),
        existingClaim: str('Use this PersistentVolumeClaim instead of creating one.'),
        keepOnUninstall: bool('Keep the claim the chart created (the stored data) on helm uninstall.'),
      }),
      trivyDatabase: obj("Trivy's vulnerability database on a volume: mounted at the trivy plugin's cacheDir, refreshed by a CronJob from your OCI mirror.", {
        enabled: bool('Create the volume, the CronJob and the init container, and set the trivy plugin cacheDir (needs @opendepot/plugin-trivy in config.plugins).'),
        repository: str('OCI repository of the database (your mirror of ghcr.io/aquasecurity/trivy-db:2), e.g. registry.example.com/mirror/trivy-db:2; required when enabled.', {
          pattern: '^(\\S+)?$',
          maxLength: 1024,
        }),
        caConfigMap: obj("A ConfigMap with the PEM certificate of the CA that signs the mirror's certificate (trivy --cacert).", {
          name: str('ConfigMap name; empty: only the CAs of the image.'),
          key: str('Key of the certificate in the ConfigMap.', { minLength: 1 }),
        }),
        insecure: bool("Neither verify the mirror's certificate nor insist on HTTPS (trivy --insecure)."),
        schedule: str('Cron schedule of the refresh, e.g. "23 */6 * * *".', { minLength: 1 }),
        populateOnStart: bool('An init container of the operator downloads the database when the volume has none (best effort).'),
        persistence: obj("The volume of trivy's cache.", {
          existingClaim: str('Use this PersistentVolumeClaim instead of creating one.'),
          storageClassName: str('StorageClass of the claim; empty for the default.'),
          accessModes: {
            type: 'array',
            description: 'Access modes of the claim (the CronJob writes, the operator reads and writes its scan cache); without ReadWriteMany the CronJob pods are scheduled onto the operator node.',
            items: { enum: ['ReadWriteMany', 'ReadWriteOnce'] },
            minItems: 1,
            uniqueItems: true,
          },
          size: quantity('Requested size, e.g. 4Gi.'),
        }),
        resources: resources("Resources of the CronJob's container and the operator's init container."),
        tmpSizeLimit: quantity("Size limit of the CronJob pod's /tmp emptyDir (trivy's compressed download)."),
      }),
      podSecurityContext: k8s('PodSecurityContext of every pod.'),
      securityContext: k8s('SecurityContext of every container.'),
      rbac: obj('RBAC of the operator.', {
        secretNamespaces: {
          type: 'array',
          description: 'Namespaces the operator may read Secrets in (a Role and RoleBinding in each); empty: the release namespace only.',
          items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
          uniqueItems: true,
        },
      }),
      metrics: obj('Prometheus scraping.', {
        serviceMonitor: obj('Prometheus Operator ServiceMonitors for the operator and the server.', {
          enabled: bool('Render the ServiceMonitors (and the operator metrics Service).'),
          labels: stringMap('Extra labels of the ServiceMonitors.'),
          interval: str('Scrape interval, e.g. 30s; empty for the default.', { pattern: '^([0-9]+(ms|s|m|h))*$' }),
          scrapeTimeout: str('Scrape timeout; empty for the default.', { pattern: '^([0-9]+(ms|s|m|h))*$' }),
          tlsConfig: k8s("The server endpoint's tlsConfig when server.tls is set."),
        }),
      }),
      networkPolicy: obj('NetworkPolicies for both pods.', {
        enabled: bool('Render the NetworkPolicies.'),
        egress: obj('Restricted egress for both pods (with networkPolicy.enabled).', {
          restrict: bool('Allow only DNS, the API server, egress.storage and (operator) public HTTPS and ssh.'),
          dns: k8sList('NetworkPolicyPeers DNS (port 53) may go to; empty: any address.'),
          apiServer: obj('The Kubernetes API server as the pods reach it.', {
            to: k8sList('NetworkPolicyPeers of the API server; empty: any address on its ports.'),
            ports: { type: 'array', description: 'Its ports (443 for the Service, 6443 for the endpoints behind it).', items: { type: 'integer', minimum: 1, maximum: 65535 } },
          }),
          internet: obj("The operator's sources: public addresses only.", {
            ports: { type: 'array', description: 'Ports allowed to public addresses (443 for https, 22 for git over ssh).', items: { type: 'integer', minimum: 1, maximum: 65535 } },
            except: { type: 'array', description: 'Ranges left out of 0.0.0.0/0 (the non-public ones).', items: { type: 'string', pattern: '^[0-9.]+/[0-9]{1,2}$' } },
          }),
          storage: k8sList('NetworkPolicyEgressRules for the storage backend, for both pods.'),
        }),
        server: networkPolicyFor('server (its port)', { metricsFrom: k8sList('NetworkPolicyPeers allowed to reach the server metrics port; empty: from anywhere.') }),
        operator: networkPolicyFor('operator (its health and metrics port 8081)'),
      }),
    }),
  };
}

/** The file's text: two-space JSON and a final newline. */
export function renderChartValuesSchema(): string {
  return `${JSON.stringify(chartValuesSchema(), null, 2)}\n`;
}
