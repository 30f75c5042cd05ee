/**
 * How a Module's or a Provider's spec becomes the {@link ArchiveSubject} an archive source reads:
 * the contract between the operator, which builds subjects, and the sources, which read them.
 */
import type { ArchiveSubject } from '@opendepot/sdk';

/** The `moduleConfig` fields the sources read (structurally the CRD's `moduleConfig`). */
export interface ModuleSourceConfig {
  name: string;
  provider?: string;
  repoOwner?: string;
  repoUrl?: string;
  /** The archive source's name (a plugin of kind archive-source). */
  source?: string;
}

/** `githubClientConfig` of a Module. */
export interface GithubClientSettings {
  useAuthenticatedClient?: boolean;
  secretRef?: { name: string };
}

/** What a module subject carries in `settings`. */
export interface ModuleSubjectSettings {
  repoOwner?: string;
  repoUrl?: string;
  githubClientConfig?: GithubClientSettings;
  /** Kubernetes namespace of the Module: where Secrets it references live. */
  namespace?: string;
}

/** The subject for a Module: its `moduleConfig`, GitHub client config and namespace. */
export function moduleArchiveSubject(config: ModuleSourceConfig, extras: { namespace?: string; githubClientConfig?: GithubClientSettings } = {}): ArchiveSubject {
  const settings: ModuleSubjectSettings = {
    ...(config.repoOwner !== undefined ? { repoOwner: config.repoOwner } : {}),
    ...(config.repoUrl !== undefined ? { repoUrl: config.repoUrl } : {}),
    ...(extras.githubClientConfig ? { githubClientConfig: extras.githubClientConfig } : {}),
    ...(extras.namespace !== undefined ? { namespace: extras.namespace } : {}),
  };
  return {
    kind: 'module',
    name: config.name,
    ...(config.repoOwner !== undefined ? { namespace: config.repoOwner } : {}),
    ...(config.provider !== undefined ? { system: config.provider } : {}),
    ...(config.repoUrl !== undefined ? { url: config.repoUrl } : {}),
    settings: settings as Record<string, unknown>,
  };
}

/** The subject's settings, read defensively (they come from a resource spec). */
export function subjectSettings(subject: ArchiveSubject): ModuleSubjectSettings {
  const s = subject.settings ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const gh = s.githubClientConfig;
  const githubClientConfig =
    typeof gh === 'object' && gh !== null
      ? {
          useAuthenticatedClient: (gh as GithubClientSettings).useAuthenticatedClient === true,
          ...(typeof (gh as GithubClientSettings).secretRef?.name === 'string' ? { secretRef: { name: (gh as { secretRef: { name: string } }).secretRef.name } } : {}),
        }
      : undefined;
  const out: ModuleSubjectSettings = {};
  const repoOwner = str(s.repoOwner);
  const repoUrl = str(s.repoUrl);
  const namespace = str(s.namespace);
  if (repoOwner !== undefined) out.repoOwner = repoOwner;
  if (repoUrl !== undefined) out.repoUrl = repoUrl;
  if (namespace !== undefined) out.namespace = namespace;
  if (githubClientConfig) out.githubClientConfig = githubClientConfig;
  return out;
}

/** The `providerConfig` fields the sources read (structurally the CRD's `providerConfig`). */
export interface ProviderSourceConfig {
  /** Provider type, e.g. `aws`. */
  name: string;
  /** Upstream namespace; default `hashicorp`. */
  namespace?: string;
  /** The archive source's name (a plugin of kind archive-source). */
  source?: string;
  /** Base URL of the upstream registry (source `registry`); default https://registry.opentofu.org. */
  registryUrl?: string;
}

/**
 * The subject for a Provider's `providerConfig`: `name` is the provider type, `namespace` the
 * upstream namespace, `url` the upstream registry; a source fills in its own defaults.
 */
export function providerArchiveSubject(config: ProviderSourceConfig): ArchiveSubject {
  return {
    kind: 'provider',
    name: config.name,
    ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
    ...(config.registryUrl !== undefined ? { url: config.registryUrl } : {}),
    settings: config.source !== undefined ? { source: config.source } : {},
  };
}
