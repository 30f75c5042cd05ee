/** Config fields both provider source plugins take (the `operator.providers` keys of the same names). */
import type { EgressOptions } from '../egress.ts';
import type { ProviderSourceOptions } from '../providers/options.ts';
import { egressSchema, hostList, positiveInteger, rateSchema, tmpDirSchema } from './schema.ts';

/** Config of a provider source plugin: {@link ProviderSourceOptions} without the logger. */
export type ProviderPluginConfig = Omit<ProviderSourceOptions, 'logger' | 'egress'> & { egress?: EgressOptions };

export const providerSourceProperties = {
  allowedDownloadHosts: hostList(
    "Hosts the URLs an upstream hands back (downloads, SHA256SUMS and signatures) and every redirect may be on, besides the upstream's own host, exact or *.example.com (operator.providers.allowedDownloadHosts). Unset: any https host.",
  ),
  allowInsecureHttp: { type: 'boolean', description: 'Allow http:// upstream URLs (tests only; operator.providers.allowInsecureHttp). Default false.' },
  requestTimeoutMs: { ...positiveInteger, description: 'Timeout of one API call or small file, and of a download until its headers arrive. Default 30000.' },
  tmpDir: tmpDirSchema,
  rate: rateSchema,
  egress: egressSchema,
} as const;
