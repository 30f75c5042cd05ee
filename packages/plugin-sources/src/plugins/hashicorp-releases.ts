/** The `hashicorp-releases` archive source plugin: provider packages from the HashiCorp Releases API. */
import { PLUGIN_API_VERSION, definePlugin, type PluginContext } from '@opendepot/sdk';
import { HashicorpReleasesSource } from '../providers/hashicorp.ts';
import { withOwnEgress } from './owned-egress.ts';
import { providerSourceProperties, type ProviderPluginConfig } from './provider-schema.ts';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hashicorpReleasesUrl: {
      type: 'string',
      pattern: '^https?://\\S+$',
      description: 'HashiCorp Releases API base URL (operator.providers.hashicorpReleasesUrl). Default https://api.releases.hashicorp.com.',
    },
    hashicorpTrustedKeys: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: "ASCII-armored public keys trusted to sign the releases' SHA256SUMS (operator.providers.hashicorpTrustedKeys); without one no package is fetched.",
    },
    ...providerSourceProperties,
  },
} as const;

/** The `hashicorp-releases` archive source plugin. */
export const hashicorpReleasesSourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'hashicorp-releases',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  create: ({ egress, ...config }: ProviderPluginConfig, context: PluginContext) => withOwnEgress(egress, (own) => new HashicorpReleasesSource({ ...config, egress: own, logger: context.logger })),
});

export default hashicorpReleasesSourcePlugin;
