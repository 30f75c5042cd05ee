/**
 * The first-party archive sources the operator offers without any `plugins:` entry, configured
 * from its own keys (operator.github, operator.allowedGitHosts, operator.providers,
 * operator.egress, allowFileUrls, operator.limits), so configurations written before sources
 * were plugins keep working. Listing one of these packages in `plugins:` replaces its default.
 */
import type { HostConfig, PluginEntry } from '@opendepot/core';
import { operatorLimits } from '../limits.ts';

/** Where the defaults are in messages. */
export const FIRST_PARTY_SOURCES_PATH = 'operator (first-party archive sources)';

/** The `plugins:` entries of the first-party sources, from the operator's keys. */
export function firstPartySources(config: HostConfig, spoolDir: string): PluginEntry[] {
  const { operator } = config;
  const limits = operatorLimits(operator.limits);
  const common = {
    egress: operator.egress,
    rate: { idleTimeoutMs: limits.upstreamIdleTimeoutSeconds * 1000, minBytesPerSecond: limits.upstreamMinBytesPerSecond },
    tmpDir: spoolDir,
  };
  const gitHosts = operator.allowedGitHosts && { allowedHosts: operator.allowedGitHosts };
  const providers = {
    ...common,
    allowInsecureHttp: operator.providers.allowInsecureHttp,
    maxPackageBytes: limits.providerPackageMaxBytes,
    ...(operator.providers.allowedDownloadHosts && { allowedDownloadHosts: operator.providers.allowedDownloadHosts }),
  };
  return [
    { package: '@opendepot/plugin-sources/github', kind: 'archive-source', config: { ...common, baseUrl: operator.github.apiUrl, ...gitHosts } },
    { package: '@opendepot/plugin-sources/git', kind: 'archive-source', config: { ...common, allowFileUrls: config.allowFileUrls, tagsCacheMs: limits.gitTagsCacheSeconds * 1000, ...gitHosts } },
    {
      package: '@opendepot/plugin-sources/hashicorp-releases',
      kind: 'archive-source',
      config: { ...providers, hashicorpReleasesUrl: operator.providers.hashicorpReleasesUrl, hashicorpTrustedKeys: operator.providers.hashicorpTrustedKeys },
    },
    {
      package: '@opendepot/plugin-sources/registry',
      kind: 'archive-source',
      config: { ...providers, ...(operator.providers.allowedRegistryHosts && { allowedRegistryHosts: operator.providers.allowedRegistryHosts }) },
    },
  ];
}
