/** What the plugin tests share: a fake service account, a plugin context, and the emulator. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, PluginContext } from '@opendepot/sdk';

// Cloud SDKs must never look for a metadata server (a non-loopback address) in tests, nor
// find credentials of the machine: the ambient chain must come up empty.
process.env.METADATA_SERVER_DETECTION = 'none';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
process.env.CLOUDSDK_CONFIG = mkdtempSync(join(tmpdir(), 'opendepot-no-gcloud-'));

/** A service account key as Google issues it, with a fresh RSA key nobody else has. */
export function fakeServiceAccountKey(project = 'opendepot-test'): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    type: 'service_account',
    project_id: project,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `opendepot@${project}.iam.gserviceaccount.com`,
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  };
}

/** A logger that remembers warnings and errors, so tests can assert on clean-up problems. */
export function recordingLogger(lines: string[] = []): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    error: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    child: () => logger,
  };
  return logger;
}

/** A plugin context as the host would pass it, with `secrets` behind `readSecret`. */
export function pluginContext(options: { secrets?: Record<string, Record<string, string>>; logger?: Logger } = {}): PluginContext {
  const secrets = options.secrets ?? {};
  return {
    logger: options.logger ?? recordingLogger(),
    signal: new AbortController().signal,
    clock: { now: () => Date.now() },
    configPath: 'storageConfig.gcs',
    async readSecret(name, key) {
      const value = secrets[name]?.[key];
      if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
      return value;
    },
  };
}
