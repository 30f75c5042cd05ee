/**
 * The first-party archive sources are offered by default, configured from the operator's own keys;
 * what the keys say reaches each plugin's config, which its schema accepts; a configured entry
 * takes a source over.
 */
import { fileURLToPath } from 'node:url';
import { createLogger, parseConfig, startPluginHost } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIRST_PARTY_SOURCES_PATH, firstPartySources } from '../src/archive-sources/first-party.ts';

const hostDir = fileURLToPath(new URL('../src/', import.meta.url));
const logger = createLogger({ level: 'warn', name: 'operator' });
const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----';

const config = parseConfig(
  `
allowFileUrls: true
operator:
  github: { apiUrl: 'https://ghe.example.com/api/v3' }
  allowedGitHosts: [git.example.com, '*.example.org']
  egress: { allowedPrivateCidrs: [10.20.0.0/16] }
  providers:
    hashicorpReleasesUrl: https://releases.example.com
    hashicorpTrustedKeys: ['${KEY.replaceAll('\n', '\\n')}']
    allowedRegistryHosts: [registry.example.com]
    allowedDownloadHosts: [downloads.example.com]
  limits: { upstreamIdleTimeoutSeconds: 30, upstreamMinBytesPerSecond: 2048, gitTagsCacheSeconds: 5, providerPackageMaxBytes: 1048576 }
`
    .replaceAll("'-----", '"-----')
    .replaceAll("-----'", '-----"'),
  { env: {} },
).config;

test("each first-party source is configured from the operator's keys", () => {
  const entries = firstPartySources(config, '/spool');
  const egress = { allowPrivateNetworks: false, allowedPrivateCidrs: ['10.20.0.0/16'] };
  const common = { egress, rate: { idleTimeoutMs: 30_000, minBytesPerSecond: 2048 }, tmpDir: '/spool' };
  const providers = { ...common, allowInsecureHttp: false, maxPackageBytes: 1048576, allowedDownloadHosts: ['downloads.example.com'] };
  assert.equal(entries, [
    { package: '@opendepot/plugin-sources/github', kind: 'archive-source', config: { ...common, baseUrl: 'https://ghe.example.com/api/v3', allowedHosts: ['git.example.com', '*.example.org'] } },
    { package: '@opendepot/plugin-sources/git', kind: 'archive-source', config: { ...common, allowFileUrls: true, tagsCacheMs: 5000, allowedHosts: ['git.example.com', '*.example.org'] } },
    {
      package: '@opendepot/plugin-sources/hashicorp-releases',
      kind: 'archive-source',
      config: { ...providers, hashicorpReleasesUrl: 'https://releases.example.com', hashicorpTrustedKeys: [KEY] },
    },
    { package: '@opendepot/plugin-sources/registry', kind: 'archive-source', config: { ...providers, allowedRegistryHosts: ['registry.example.com'] } },
  ]);
});

test('the plugins load from the operator package with that config; a configured entry replaces its default', async () => {
  const defaults = { defaults: firstPartySources(config, '/spool'), defaultsPath: FIRST_PARTY_SOURCES_PATH, hostDir, logger };
  const host = await startPluginHost({ ...config, plugins: [] }, defaults);
  try {
    assert.equal(
      host.registry.ofKind('archive-source').map((p) => [p.name, p.configPath, p.packageName]),
      [
        ['github', `${FIRST_PARTY_SOURCES_PATH}[0]`, '@opendepot/plugin-sources'],
        ['git', `${FIRST_PARTY_SOURCES_PATH}[1]`, '@opendepot/plugin-sources'],
        ['hashicorp-releases', `${FIRST_PARTY_SOURCES_PATH}[2]`, '@opendepot/plugin-sources'],
        ['registry', `${FIRST_PARTY_SOURCES_PATH}[3]`, '@opendepot/plugin-sources'],
      ],
    );
  } finally {
    await host.close();
  }
  const own = await startPluginHost(
    {
      ...config,
      plugins: [
        { package: '@opendepot/plugin-sources/registry', enabled: false },
        { package: '@opendepot/plugin-sources/git', config: { allowFileUrls: false } },
      ],
    },
    defaults,
  );
  try {
    assert.equal(
      own.registry.ofKind('archive-source').map((p) => [p.name, p.configPath]),
      [
        ['git', 'plugins[1]'],
        ['github', `${FIRST_PARTY_SOURCES_PATH}[0]`],
        ['hashicorp-releases', `${FIRST_PARTY_SOURCES_PATH}[2]`],
      ],
    );
  } finally {
    await own.close();
  }
});

test.run();
