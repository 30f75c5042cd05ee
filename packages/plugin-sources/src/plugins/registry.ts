/** The `registry` archive source plugin: provider packages from any upstream provider registry. */
import { PLUGIN_API_VERSION, definePlugin, type PluginContext } from '@opendepot/sdk';
import { RegistryProviderSource } from '../providers/registry.ts';
import { withOwnEgress } from './owned-egress.ts';
import { providerSourceProperties, type ProviderPluginConfig } from './provider-schema.ts';
import { hostList } from './schema.ts';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allowedRegistryHosts: hostList('Hosts an upstream registry may be on, exact or *.example.com (operator.providers.allowedRegistryHosts). Unset: any https host.'),
    ...providerSourceProperties,
  },
} as const;

/** The `registry` archive source plugin. */
export const registrySourcePlugin = definePlugin({
  kind: 'archive-source',
  name: 'registry',
  apiVersion: PLUGIN_API_VERSION,
  configSchema,
  create: ({ egress, ...config }: ProviderPluginConfig, context: PluginContext) => withOwnEgress(egress, (own) => new RegistryProviderSource({ ...config, egress: own, logger: context.logger })),
});

export default registrySourcePlugin;
