/** How a Module's spec becomes the {@link ArchiveSubject} the module sources read. */
import type { ArchiveSubject } from '@opendepot/sdk';

/** The archive sources of modules. */
export type ModuleSourceKind = 'github' | 'git';

/** The `moduleConfig` fields the sources read (structurally the CRD's `moduleConfig`). */
export interface ModuleSourceConfig {
  name: string;
  provider?: string;
  repoOwner?: string;
  repoUrl?: string;
  source?: ModuleSourceKind;
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
export function moduleArchiveSubject(
  config: ModuleSourceConfig,
  extras: { namespace?: string; githubClientConfig?: GithubClientSettings } = {},
): ArchiveSubject {
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

/** The file name a module archive is served as, e.g. `terraform-aws-vpc-1.2.0.zip`. */
export function moduleArchiveFilename(subject: ArchiveSubject, version: string, format: 'zip' | 'tar.gz'): string {
  return `${subject.name}-${version}.${format}`;
}

/** A URL fit for messages and logs: user and password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}
