/** From config to a ready storage: credentials, the client, and the start-up check. */
import { InputError, isOpenDepotError, type Logger } from '@opendepot/sdk';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, type WebDavStorageConfig } from './config.ts';
import { DavClient } from './dav-client.ts';
import { WebDavStorage } from './storage.ts';

/** What {@link openWebDavStorage} needs besides the config. */
export interface OpenOptions {
  /** Reads the password Secret (the host's `PluginContext.readSecret`). */
  readSecret?(name: string, key: string): Promise<string>;
  logger?: Logger;
  now?: () => number;
  /** Aborts the start-up check. */
  signal?: AbortSignal;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Makes a {@link WebDavStorage} from config and checks that the server answers, the credentials
 * are accepted and the base collection exists (creating it if only it is missing). Errors name
 * the offending field (`url`, `username`, `passwordSecretRef`) in `field`.
 */
export async function openWebDavStorage(config: WebDavStorageConfig, options: OpenOptions = {}): Promise<WebDavStorage> {
  const url = checkUrl(config?.url);
  const timeoutSeconds = config.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw new InputError(`requestTimeoutSeconds must be a positive integer, got ${timeoutSeconds}`, { field: 'requestTimeoutSeconds' });
  const authorization = await basicAuthorization(config, options);
  const dav = new DavClient({
    url,
    timeoutMs: timeoutSeconds * 1000,
    ...(authorization === undefined ? {} : { authorization }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const storage = new WebDavStorage(dav, { ...(options.logger === undefined ? {} : { logger: options.logger }), ...(options.now === undefined ? {} : { now: options.now }) });
  return storage.init(options.signal);
}

function checkUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InputError(`url ${JSON.stringify(value)} is not a URL`, { field: 'url', hint: 'Set url to the http(s) URL of a WebDAV collection.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`url must be http or https, got ${url.protocol}`, { field: 'url' });
  if (url.username !== '' || url.password !== '') throw new InputError('url must not contain credentials', { field: 'url', hint: 'Use username and passwordSecretRef.' });
  if (url.search !== '' || url.hash !== '') throw new InputError('url must not have a query or a fragment', { field: 'url' });
  return url.href;
}

async function basicAuthorization(config: WebDavStorageConfig, options: OpenOptions): Promise<string | undefined> {
  const { username, passwordSecretRef: ref } = config;
  if (username === undefined && ref === undefined) return undefined;
  if (username === undefined || ref === undefined) throw new InputError('username and passwordSecretRef go together', { field: username === undefined ? 'username' : 'passwordSecretRef' });
  if (username.includes(':')) throw new InputError('username must not contain a colon (HTTP Basic authentication cannot carry it)', { field: 'username' });
  if (options.readSecret === undefined) throw new InputError('this host cannot read Secrets, so passwordSecretRef cannot be used', { field: 'passwordSecretRef' });
  let password: string;
  try {
    password = await options.readSecret(ref.name, ref.key);
  } catch (err) {
    if (isOpenDepotError(err, 'unavailable')) throw err; // the API server is down: worth retrying
    throw new InputError(`cannot read key ${JSON.stringify(ref.key)} of Secret ${JSON.stringify(ref.name)}: ${err instanceof Error ? err.message : String(err)}`, {
      field: 'passwordSecretRef',
      cause: err,
    });
  }
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
