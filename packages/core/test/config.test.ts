/** Configuration: YAML file + OPENDEPOT_* environment, defaults, and errors naming file/variable and field. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenDepotError } from '@opendepot/sdk';
import { SERVICE_LINK_ENV } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../src/config/config-error.ts';
import { ENV_MAPPINGS, isServiceLinkVariable } from '../src/config/env.ts';
import { configFileFromArgs, loadConfig, parseConfig } from '../src/config/load-config.ts';

const noEnv = {};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.ok(isOpenDepotError(err, 'input'));
    return err as ConfigError;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

/** `server.limits` defaults: timeouts in seconds, the connection cap. */
const SERVER_LIMITS = { headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 5, maxConnections: 256, sendIdleTimeoutSeconds: 30 };

const VALUES = `
# a Helm values file: chart keys the host does not know are fine
image: { repository: ghcr.io/opendepot/server, tag: 0.1.0 }
logLevel: debug
namespace: opendepot-system
plugins:
  - package: '@opendepot/plugin-fs'
  - package: '@opendepot/plugin-trivy'
    config: { severity: [HIGH, CRITICAL] }
  - path: ./dev/my-auth
    kind: auth
    enabled: false
defaultStorageConfig:
  filesystem: { path: /data/opendepot }
  presign: { enabled: false }
server:
  port: 9443
  tls: { certFile: /tls/tls.crt, keyFile: /tls/tls.key }
operator:
  concurrency: 8
`;

test('a values file, with defaults filled in', () => {
  const { config, warnings, file, baseDir } = parseConfig(VALUES, { file: '/etc/opendepot/values.yaml', env: noEnv });
  assert.is(file, '/etc/opendepot/values.yaml');
  assert.is(baseDir, '/etc/opendepot');
  assert.is(config.logLevel, 'debug');
  assert.is(config.namespace, 'opendepot-system');
  assert.equal(config.plugins[1], { package: '@opendepot/plugin-trivy', config: { severity: ['HIGH', 'CRITICAL'] } });
  assert.equal(config.defaultStorageConfig, { filesystem: { path: '/data/opendepot' }, presign: { enabled: false } });
  assert.equal(config.server, { port: 9443, host: '0.0.0.0', metricsPort: 9090, limits: SERVER_LIMITS, trustedProxies: [], tls: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } });
  assert.equal(config.operator, {
    concurrency: 8,
    leaderElection: { enabled: true, leaseName: 'opendepot-operator' },
    verifyIntervalSeconds: 600,
    github: { apiUrl: 'https://api.github.com' },
    egress: { allowPrivateNetworks: false, allowedPrivateCidrs: [] },
    providers: { hashicorpReleasesUrl: 'https://api.releases.hashicorp.com', hashicorpTrustedKeys: [], allowInsecureHttp: false },
    limits: {
      reconcileTimeoutSeconds: 900,
      upstreamIdleTimeoutSeconds: 60,
      upstreamMinBytesPerSecond: 1024,
      providerZipMaxEntries: 10000,
      providerZipMaxUncompressedBytes: 4294967296,
      providerPackageMaxBytes: 4294967296,
      gitTagsCacheSeconds: 60,
    },
    scanning: { blockSeverities: [] },
  });
  assert.is(config.allowFileUrls, false);
  assert.equal(config.image, { repository: 'ghcr.io/opendepot/server', tag: '0.1.0' }, 'unknown top-level keys are kept');
  assert.equal(warnings, []);
});

test('no file at all: every default', () => {
  const { config } = parseConfig(undefined, { env: noEnv });
  assert.equal(config, {
    logLevel: 'info',
    plugins: [],
    storage: {},
    allowFileUrls: false,
    server: { port: 8080, host: '0.0.0.0', metricsPort: 9090, limits: SERVER_LIMITS, trustedProxies: [] },
    operator: {
      concurrency: 4,
      leaderElection: { enabled: true, leaseName: 'opendepot-operator' },
      verifyIntervalSeconds: 600,
      github: { apiUrl: 'https://api.github.com' },
      egress: { allowPrivateNetworks: false, allowedPrivateCidrs: [] },
      providers: { hashicorpReleasesUrl: 'https://api.releases.hashicorp.com', hashicorpTrustedKeys: [], allowInsecureHttp: false },
      limits: {
        reconcileTimeoutSeconds: 900,
        upstreamIdleTimeoutSeconds: 60,
        upstreamMinBytesPerSecond: 1024,
        providerZipMaxEntries: 10000,
        providerZipMaxUncompressedBytes: 4294967296,
        providerPackageMaxBytes: 4294967296,
        gitTagsCacheSeconds: 60,
      },
      scanning: { blockSeverities: [] },
    },
    auth: { anonymous: { enabled: true }, kubernetes: { enabled: false, audiences: [], cacheTtlSeconds: 10, cacheMaxEntries: 10000 }, kubeconfig: { enabled: false }, downloadUrlTtlSeconds: 300 },
  });
  assert.equal(parseConfig('', { env: noEnv }).config.plugins, [], 'an empty file is all defaults');
  assert.equal(parseConfig('# only a comment\n', { env: noEnv }).config.logLevel, 'info');
});

test('environment variables override the file', () => {
  const { config } = parseConfig(VALUES, {
    env: {
      OPENDEPOT_LOG_LEVEL: 'warn',
      OPENDEPOT_SERVER_PORT: '8081',
      OPENDEPOT_SERVER_TLS_KEY_FILE: '/other/tls.key',
      OPENDEPOT_ALLOW_FILE_URLS: 'true',
      OPENDEPOT_OPERATOR_LEADER_ELECTION: 'false',
      OPENDEPOT_WATCH_NAMESPACES: 'team-a, team-b,',
      OPENDEPOT_DEFAULT_STORAGE_CONFIG: '{"s3": {"bucket": "modules", "region": "us-west-2"}}',
      OPENDEPOT_NAMESPACE: '',
      OPENDEPOT_AUTH_ANONYMOUS: 'false',
      OPENDEPOT_AUTH_KUBERNETES: 'true',
      OPENDEPOT_AUTH_KUBERNETES_AUDIENCES: 'opendepot,registry',
      UNRELATED: 'x',
    },
  });
  assert.equal(config.auth.anonymous, { enabled: false });
  assert.equal(config.auth.kubernetes, { enabled: true, audiences: ['opendepot', 'registry'], cacheTtlSeconds: 10, cacheMaxEntries: 10000 });
  assert.is(config.logLevel, 'warn');
  assert.is(config.server.port, 8081);
  assert.equal(config.server.tls, { certFile: '/tls/tls.crt', keyFile: '/other/tls.key' }, 'objects merge field by field');
  assert.is(config.allowFileUrls, true);
  assert.is(config.operator.leaderElection.enabled, false);
  assert.equal(config.operator.watchNamespaces, ['team-a', 'team-b']);
  assert.equal(config.defaultStorageConfig, { s3: { bucket: 'modules', region: 'us-west-2' } }, 'a storageConfig is replaced whole, never merged');
  assert.is(config.namespace, 'opendepot-system', 'an empty variable counts as unset');
});

test('every mapped variable is documented and maps to a distinct field', () => {
  const names = ENV_MAPPINGS.map((m) => m.name);
  assert.is(new Set(names).size, names.length);
  assert.is(new Set(ENV_MAPPINGS.map((m) => m.path.join('.'))).size, names.length);
  for (const m of ENV_MAPPINGS) {
    assert.match(m.name, /^OPENDEPOT_[A-Z_]+$/);
    assert.ok(m.description.length > 5, m.name);
  }
});

test('schema errors name the file and every field', () => {
  const err = configError(() => parseConfig('logLevel: loud\nserver:\n  port: 70000\n  tls: { certFile: /a }\nplugins:\n  - packag: x\n', { file: '/etc/od.yaml', env: noEnv }));
  assert.match(err.message, /^invalid configuration in \/etc\/od\.yaml: /);
  assert.match(err.message, /logLevel: must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent", not "loud"/);
  assert.match(err.message, /server\.port: must be <= 65535/);
  assert.match(err.message, /server\.tls\.keyFile: is required/);
  assert.match(err.message, /plugins\[0\]\.packag: is not a known field \(known fields: package, path, kind, enabled, config\)/);
  assert.is(err.source, '/etc/od.yaml');
  assert.is(err.field, 'logLevel');
});

test('operator.scanning.blockSeverities takes trivy severities, and names a wrong one', () => {
  const { config } = parseConfig('operator:\n  scanning:\n    blockSeverities: [CRITICAL, HIGH]\n', { env: noEnv });
  assert.equal(config.operator.scanning, { blockSeverities: ['CRITICAL', 'HIGH'] });
  const fromEnv = parseConfig('', { env: { OPENDEPOT_SCAN_BLOCK_SEVERITIES: 'CRITICAL, HIGH' } }).config;
  assert.equal(fromEnv.operator.scanning.blockSeverities, ['CRITICAL', 'HIGH']);
  const badEnv = configError(() => parseConfig('', { env: { OPENDEPOT_SCAN_BLOCK_SEVERITIES: 'CRITICAL,SEVERE' } }));
  assert.match(badEnv.message, /OPENDEPOT_SCAN_BLOCK_SEVERITIES/);
  const err = configError(() => parseConfig('operator:\n  scanning:\n    blockSeverities: [SEVERE]\n', { file: '/etc/od.yaml', env: noEnv }));
  assert.match(err.message, /operator\.scanning\.blockSeverities\[0\]: must be one of "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL", not "SEVERE"/);
});

test('plugin entries need exactly one of package and path', () => {
  const err = configError(() => parseConfig('plugins:\n  - package: a\n    path: ./b\n  - config: {}\n', { env: noEnv }));
  assert.match(err.message, /plugins\[0\]: set only one of package and path; plugins\[1\]: set package \(an npm package name\) or path/);
});

test('defaultStorageConfig is checked against the storageConfig schema', () => {
  const err = configError(() => parseConfig('defaultStorageConfig:\n  filesystem: { path: relative }\n  presign: { ttl: soon }\n', { file: 'v.yaml', env: noEnv }));
  assert.match(err.message, /defaultStorageConfig\.filesystem\.path: must match the pattern \^\/, not "relative"/);
  assert.match(err.message, /defaultStorageConfig\.presign\.ttl: must match the pattern/);
});

const PROFILES = `
storage:
  defaultProfile: aws
  profiles:
    aws:
      s3: { bucket: my-org-modules, region: us-west-2, credentialsSecretRef: { name: opendepot-s3 } }
      presign: { enabled: true, ttl: 15m }
      tenantSettable:
        bucket: ["my-org-*"]
        region: [us-west-2]
    shared:
      filesystem: { path: /data/opendepot }
`;

test('storage profiles parse with their tenant-settable globs and presign defaults', () => {
  const { config, warnings } = parseConfig(PROFILES, { file: 'v.yaml', env: noEnv });
  assert.is(config.storage.defaultProfile, 'aws');
  assert.equal(config.storage.profiles?.aws?.tenantSettable, { bucket: ['my-org-*'], region: ['us-west-2'] });
  assert.equal(config.storage.profiles?.aws?.presign, { enabled: true, ttl: '15m' });
  assert.equal(warnings, []);
  assert.equal(parseConfig(undefined, { env: noEnv }).config.storage, {}, 'no storage unless configured');
});

test('a tenant-settable field that says where credentials go is refused at start, naming it and the fix', () => {
  for (const field of ['endpoint', 'accountUrl', 'credentialsSecretRef', 'forcePathStyle', 'allowedEndpointHosts', 'root', 'tokenUrl', 'apiEndpoint', 'keySecretRef']) {
    const text = PROFILES.replace('region: [us-west-2]', `region: [us-west-2]\n        ${field}: ["*"]`);
    const err = configError(() => parseConfig(text, { file: 'v.yaml', env: noEnv }));
    assert.is(err.field, `storage.profiles.aws.tenantSettable.${field}`, field);
    assert.match(
      err.message,
      `storage.profiles.aws.tenantSettable.${field}: ${field} says where credentials are sent (or is a credential) and can never be tenant-settable; remove it from tenantSettable and set its value in the profile itself`,
    );
  }
});

test('storage profiles: shorthand and profiles together, several backends, an unknown default, bad globs', () => {
  const both = configError(() => parseConfig(`${PROFILES}defaultStorageConfig:\n  filesystem: { path: /data }\n`, { env: noEnv }));
  assert.is(both.field, 'defaultStorageConfig');
  assert.match(both.message, /cannot be combined with storage\.profiles/);
  const two = configError(() => parseConfig('storage:\n  profiles:\n    x: { s3: { bucket: b, region: r }, gcs: { bucket: b } }\n', { env: noEnv }));
  assert.match(two.message, /storage\.profiles\.x: names 2 storage backends \(s3, gcs\); a profile has exactly one/);
  const unknown = configError(() => parseConfig(PROFILES.replace('defaultProfile: aws', 'defaultProfile: gcp'), { env: noEnv }));
  assert.match(unknown.message, /storage\.defaultProfile: names the profile "gcp", which storage\.profiles does not define \(defined: aws, shared\)/);
  const globs = configError(() => parseConfig(PROFILES.replace('bucket: ["my-org-*"]', 'bucket: "my-org-*"'), { env: noEnv }));
  assert.match(globs.message, /storage\.profiles\.aws\.tenantSettable\.bucket: must be an array/);
});

test('bad values from the environment name the variable', () => {
  const notInt = configError(() => parseConfig(undefined, { env: { OPENDEPOT_SERVER_PORT: 'eighty' } }));
  assert.match(notInt.message, /^environment variable OPENDEPOT_SERVER_PORT must be an integer, not "eighty"/);
  assert.is(notInt.source, 'OPENDEPOT_SERVER_PORT');
  assert.is(notInt.field, 'server.port');
  const notBool = configError(() => parseConfig(undefined, { env: { OPENDEPOT_ALLOW_FILE_URLS: 'maybe' } }));
  assert.match(notBool.message, /OPENDEPOT_ALLOW_FILE_URLS must be true or false/);
  const badLevel = configError(() => parseConfig('logLevel: info\n', { file: 'v.yaml', env: { OPENDEPOT_LOG_LEVEL: 'verbose' } }));
  assert.match(badLevel.message, /^invalid configuration in v\.yaml and the environment: logLevel \(from OPENDEPOT_LOG_LEVEL\): must be one of/);
  assert.is(badLevel.source, 'OPENDEPOT_LOG_LEVEL');
  const badYaml = configError(() => parseConfig(undefined, { env: { OPENDEPOT_DEFAULT_STORAGE_CONFIG: '{ s3: [unclosed, secretvalue' } }));
  assert.match(badYaml.message, /OPENDEPOT_DEFAULT_STORAGE_CONFIG is not valid JSON or YAML/);
  assert.not.match(badYaml.message, /secretvalue/, 'the value is not echoed');
});

test('Kubernetes service-link variables are ignored with a warning, not read as configuration', () => {
  // What the kubelet injects into every pod started after a Service named opendepot-server exists.
  const links = SERVICE_LINK_ENV;
  const loaded = parseConfig('server:\n  port: 8080\n', { file: 'v.yaml', env: links });
  assert.is(loaded.config.server.port, 8080, 'the file wins over a service link');
  const warning = loaded.warnings.find((w) => w.includes('OPENDEPOT_SERVER_PORT'));
  assert.ok(warning, loaded.warnings.join('\n'));
  assert.match(warning, /service-link variable.*enableServiceLinks: false/);
  // A real override of the same variable still applies.
  assert.is(parseConfig(undefined, { env: { ...links, OPENDEPOT_SERVER_PORT: '9090' } }).config.server.port, 9090);
  for (const [name, value] of Object.entries(links)) assert.ok(isServiceLinkVariable(name, value), name);
  assert.not.ok(isServiceLinkVariable('OPENDEPOT_SERVER_PORT', '8080'));
  assert.not.ok(isServiceLinkVariable('OPENDEPOT_SERVER_EXTERNAL_URL', 'https://registry.example.com'));
});

test('malformed YAML names the file and the line', () => {
  const dup = configError(() => parseConfig('logLevel: info\nlogLevel: debug\n', { file: '/v.yaml', env: noEnv }));
  assert.match(dup.message, /^\/v\.yaml is not valid YAML at line 2, column 1: Map keys must be unique$/);
  const broken = configError(() => parseConfig('server:\n  port: [8080\n', { file: '/v.yaml', env: noEnv }));
  assert.match(broken.message, /^\/v\.yaml is not valid YAML at line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  const list = configError(() => parseConfig('- a\n- b\n', { file: '/v.yaml', env: noEnv }));
  assert.match(list.message, /\/v\.yaml must be a YAML mapping/);
});

test('server.externalUrl and trustedProxies from the file or the environment; the old publicUrl is refused with the new name', () => {
  const { config } = parseConfig('server:\n  externalUrl: https://registry.example.com/prefix\n', { env: { OPENDEPOT_SERVER_TRUSTED_PROXIES: '10.0.0.0/8,192.168.1.10' } });
  assert.is(config.server.externalUrl, 'https://registry.example.com/prefix');
  assert.equal(config.server.trustedProxies, ['10.0.0.0/8', '192.168.1.10']);
  assert.throws(() => parseConfig('server:\n  publicUrl: https://registry.example.com\n', { env: noEnv }), /server\.publicUrl: was renamed server\.externalUrl/);
  assert.throws(() => parseConfig('server:\n  externalUrl: registry.example.com\n', { env: noEnv }), /server\.externalUrl/);
  assert.throws(() => parseConfig('server:\n  trustedProxies: [everyone]\n', { env: noEnv }), /server\.trustedProxies/);
});

test('likely typos in known sections are warnings', () => {
  const { warnings } = parseConfig('server:\n  prot: 80\noperator:\n  leaderElection: { enable: false }\n', { file: 'v.yaml', env: noEnv });
  assert.equal(warnings, [
    'v.yaml: server.prot is not a known field and is ignored (known in server: port, host, metricsPort, limits, externalUrl, trustedProxies, presign, tls, gpg)',
    'v.yaml: operator.leaderElection.enable is not a known field and is ignored (known in operator.leaderElection: enabled, leaseName)',
  ]);
});

test('loadConfig reads --config, then OPENDEPOT_CONFIG, resolving relative to cwd', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-config-'));
  try {
    await writeFile(join(dir, 'values.yaml'), 'logLevel: error\n');
    await writeFile(join(dir, 'other.yaml'), 'logLevel: warn\n');
    const fromFlag = await loadConfig({ argv: ['--config', 'values.yaml'], env: { OPENDEPOT_CONFIG: 'other.yaml' }, cwd: dir });
    assert.is(fromFlag.config.logLevel, 'error');
    assert.is(fromFlag.file, join(dir, 'values.yaml'));
    assert.is(fromFlag.baseDir, dir);
    const fromEnv = await loadConfig({ argv: [], env: { OPENDEPOT_CONFIG: join(dir, 'other.yaml') }, cwd: '/' });
    assert.is(fromEnv.config.logLevel, 'warn');
    const none = await loadConfig({ argv: [], env: {}, cwd: dir });
    assert.is(none.file, undefined);
    assert.is(none.baseDir, dir);
    let missing: unknown;
    try {
      await loadConfig({ argv: ['--config=absent.yaml'], env: {}, cwd: dir });
    } catch (err) {
      missing = err;
    }
    assert.instance(missing, ConfigError);
    assert.match((missing as Error).message, new RegExp(`^configuration file ${join(dir, 'absent.yaml')} does not exist`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--config parsing', () => {
  assert.is(configFileFromArgs(['serve', '--config=/a.yaml']), '/a.yaml');
  assert.is(configFileFromArgs(['--config', '/b.yaml', '--verbose']), '/b.yaml');
  assert.is(configFileFromArgs(['--other']), undefined);
  assert.throws(() => configFileFromArgs(['--config']), /--config needs a file name/);
  assert.throws(() => configFileFromArgs(['--config', '--verbose']), /--config needs a file name/);
});

test.run();
