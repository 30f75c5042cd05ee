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
  maxPackageBytes: {
    ...positiveInteger,
    description: 'Bytes of one provider package; a bigger one is refused before it is stored (operator.limits.providerPackageMaxBytes). Default 4294967296 (4 GiB).',
  },
  tmpDir: tmpDirSchema,
  rate: rateSchema,
  egress: egressSchema,
} as const;
