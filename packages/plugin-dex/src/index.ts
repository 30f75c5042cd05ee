/**
 * `@opendepot/plugin-dex`: OpenDepot authentication with OIDC bearer tokens issued by Dex, and
 * `login.v1` in service discovery so `tofu login` / `terraform login` work (authorization code
 * with PKCE against a Dex static public client). Which modules and providers a principal may read
 * is decided by GroupBindings over its groups and claims, not here.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { definePlugin, InputError, PLUGIN_API_VERSION } from '@opendepot/sdk';
import { configSchema, resolveConfig, type DexAuthConfig } from './config.ts';
import { discoverIssuer, issuerFetch, issuerKeySet } from './issuer.ts';
import { DexAuthProvider } from './provider.ts';

export { configSchema, resolveConfig, isLoopback, DEFAULTS, type DexAuthConfig, type ResolvedDexAuthConfig } from './config.ts';
export { discoverIssuer, internalUrlOf, issuerFetch, issuerKeySet, ASYMMETRIC_ALGORITHMS, type IssuerMetadata } from './issuer.ts';
export { IssuerKeySet, type IssuerKeySetOptions } from './key-set.ts';
export { DexAuthProvider, BROWSER_SCOPES, bearerToken, claimedIssuer, groupsOf, DENY_REASON, PROVIDER_NAME, MAX_TOKEN_LENGTH, type DexAuthProviderOptions } from './provider.ts';

/** The plugin: `kind: auth`, `name: dex`. */
export default definePlugin({
  kind: 'auth',
  name: 'dex',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  async create(raw: DexAuthConfig, context) {
    const config = resolveConfig(raw, context.configPath);
    const browserClientSecret = config.browserClientSecretFile === undefined ? undefined : await readSecretFile(config.browserClientSecretFile, `${context.configPath}.browserClientSecretFile`);
    const logger = context.logger;
    const fetchImpl = issuerFetch(config, (url) => logger.debug('fetching from the OIDC issuer', { url }));
    const metadata = await discoverIssuer(config, { logger, signal: context.signal, configPath: context.configPath, fetch: fetchImpl });
    const keys = issuerKeySet(metadata, config, fetchImpl, logger);
    logger.info('dex auth ready', {
      issuer: metadata.issuer,
      via: config.internalIssuerUrl ?? metadata.issuer,
      clientId: config.clientId,
      browserClientId: config.browserClientId,
      browserClient: browserClientSecret === undefined ? 'public' : 'confidential',
      algorithms: metadata.algorithms,
      groupsClaim: config.groupsClaim,
    });
    return new DexAuthProvider({
      config,
      metadata,
      keys: keys.getKey,
      keySetGeneration: () => keys.generation,
      logger,
      clock: context.clock,
      ...(browserClientSecret !== undefined && { browserClientSecret }),
    });
  },
});

/** The trimmed content of a secret file; an input error naming `field` when it is missing or empty. */
async function readSecretFile(path: string, field: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new InputError(`${field}: cannot read ${path} (${(err as { code?: string }).code ?? 'error'})`, { field, hint: 'mount the Dex client secret as a file and name it here', cause: err });
  }
  if (text === '') throw new InputError(`${field}: ${path} is empty`, { field, hint: 'the file must hold the Dex static client secret' });
  return text;
}
