/**
 * Azurite's Blob service (the Azure Storage emulator, from npm) on a loopback port, for the
 * Azure storage plugin's tests. It serves HTTPS when given certificates, because the CRDs only
 * accept https account URLs; telemetry is off, so nothing leaves loopback.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import type { TestCertificates } from './tls.ts';

/**
 * Azurite's development account. Its key is public: Microsoft documents it for the emulator
 * ("Use the Azurite emulator for local Azure Storage development"); it opens nothing real.
 */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** The public key of {@link AZURITE_ACCOUNT_NAME}. */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Options of {@link startAzurite}. */
export interface AzuriteOptions {
  /** Serve HTTPS with this server certificate (it must cover 127.0.0.1). Default: plain HTTP. */
  tls?: Pick<TestCertificates, 'certPem' | 'keyPem'>;
  /**
   * Accept Microsoft Entra ID bearer tokens too (`--oauth basic`, HTTPS only). Azurite checks a
   * token's issuer, audience and lifetime but not its signature, so tests can mint their own.
   */
  oauth?: boolean;
  /** Keep everything in Azurite's memory instead of a temporary directory. Default false (big objects stay off the heap). */
  inMemory?: boolean;
  /** How long to wait for it to listen. Default 60 s. */
  startTimeoutMs?: number;
}

/** A running Azurite Blob service. */
export interface Azurite {
  /** The account's blob endpoint, path-style: `https://127.0.0.1:<port>/devstoreaccount1`. */
  accountUrl: string;
  accountName: string;
  accountKey: string;
  /** A connection string for {@link accountUrl} with the account key. */
  connectionString: string;
  /** Azurite's log (startup messages; access log lines). */
  logFile: string;
  process: ManagedProcess;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

const LISTENING = /successfully listens on (https?:\/\/\S+)/;

/** Starts `azurite-blob` on a free loopback port and resolves once it listens. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  if (options.oauth && options.tls === undefined) throw new Error('startAzurite: oauth needs tls (Azurite refuses bearer tokens over http)');
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-azurite-'));
  const logFile = join(dir, 'azurite.log');
  const args = [
    resolveAzuriteBlobMain(),
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    '0',
    '--disableTelemetry',
    // @azure/storage-blob sends an x-ms-version newer than the emulator knows.
    '--skipApiVersionCheck',
    '--loose',
    ...(options.inMemory ? ['--inMemoryPersistence'] : ['--location', join(dir, 'data')]),
  ];
  if (options.tls !== undefined) {
    await writeFile(join(dir, 'cert.pem'), options.tls.certPem);
    await writeFile(join(dir, 'key.pem'), options.tls.keyPem, { mode: 0o600 });
    args.push('--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'));
  }
  if (options.oauth) args.push('--oauth', 'basic');
  const proc = startProcess(process.execPath, args, { logFile, cwd: dir, env: { PATH: process.env.PATH, HOME: dir } });
  const stop = async (): Promise<void> => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };

  let listening: string | undefined;
  try {
    await waitFor(
      'Azurite to listen',
      async () => {
        listening = LISTENING.exec(await readFile(logFile, 'utf8').catch(() => ''))?.[1];
        return listening !== undefined || proc.child.exitCode !== null; // a crash ends the wait too
      },
      options.startTimeoutMs ?? 60_000,
      100,
    );
    if (listening === undefined) throw new Error(`azurite-blob exited with ${proc.child.exitCode}: ${await readFile(logFile, 'utf8').catch(() => '')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  const { protocol, host } = new URL(listening!);
  const accountUrl = `${protocol}//${host}/${AZURITE_ACCOUNT_NAME}`;
  return {
    accountUrl,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString: `DefaultEndpointsProtocol=${protocol.slice(0, -1)};AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${accountUrl};`,
    logFile,
    process: proc,
    stop,
  };
}

/** The blob service's entry point in the installed `azurite` package (its `azurite-blob` bin). */
function resolveAzuriteBlobMain(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'blob', 'main.js');
}

/**
 * Makes TLS clients of this process (the Azure SDK, `fetch`) trust `caPem` besides the usual
 * roots, as `NODE_EXTRA_CA_CERTS` would if it could be set after start-up.
 */
export function trustCaInProcess(caPem: string): void {
  const current = getCACertificates('default');
  if (!current.includes(caPem)) setDefaultCACertificates([...current, caPem]);
}
