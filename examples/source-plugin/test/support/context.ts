/** A plugin context as the host would pass it, with a logger that keeps nothing. */
import type { Logger, PluginContext } from '@opendepot/sdk';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** The context the host gives `create`. */
export function pluginContext(): PluginContext {
  return { logger: quiet, signal: new AbortController().signal, clock: { now: () => Date.now() }, configPath: 'plugins[https-dir].config' };
}
