/** Checks that an imported module is a usable plugin, and that `create` returned a usable instance. */
import { isPlugin, PLUGIN_API_VERSION, PLUGIN_KINDS, type Plugin, type PluginKind } from '@opendepot/sdk';

/** A problem with the module's default export: what, and the fix. */
export interface DefinitionProblem {
  problem: 'not-a-plugin' | 'wrong-api-version';
  message: string;
  fix: string;
}

/** Plugin names: also `storageConfig` keys, so camelCase (`azureBlob`) and kebab-case are allowed. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/**
 * The plugin a module exports by default. A CommonJS build of an ES module (`exports.default`)
 * arrives as `{ default: { default: plugin } }` through `import()`, so that is unwrapped too.
 */
export function defaultExportOf(module: Record<string, unknown>): unknown {
  const value = module.default;
  if (!isPlugin(value) && typeof value === 'object' && value !== null && isPlugin((value as Record<string, unknown>).default)) {
    return (value as Record<string, unknown>).default;
  }
  return value;
}

/** Checks the brand (any copy of the SDK), the API version and the definition's shape. */
export function checkDefinition(module: Record<string, unknown>, value: unknown, label: string): DefinitionProblem | undefined {
  const sdkFix = `make the module \`export default definePlugin({ kind, name, apiVersion: PLUGIN_API_VERSION, configSchema, create })\` (from @opendepot/sdk), or check that ${label} is an OpenDepot plugin`;
  if (!isPlugin(value)) {
    const named = Object.entries(module).find(([key, v]) => key !== 'default' && isPlugin(v));
    if (named) {
      return {
        problem: 'not-a-plugin',
        message: `the module exports a plugin as "${named[0]}" but has no plugin as its default export`,
        fix: `export it as the default export: export default ${named[0]}`,
      };
    }
    if (value === undefined) return { problem: 'not-a-plugin', message: 'the module has no default export', fix: sdkFix };
    const looksLikeDefinition = typeof value === 'object' && value !== null && 'kind' in value && 'create' in value;
    return {
      problem: 'not-a-plugin',
      message: looksLikeDefinition ? 'its default export looks like a plugin definition but was not made by definePlugin()' : `its default export is ${describeValue(value)}, not a plugin`,
      fix: looksLikeDefinition ? 'wrap the definition: export default definePlugin({ ... }) from @opendepot/sdk' : sdkFix,
    };
  }
  if (value.apiVersion !== PLUGIN_API_VERSION) {
    return {
      problem: 'wrong-api-version',
      message: `it was written for plugin API ${JSON.stringify(value.apiVersion)}, but this OpenDepot implements ${JSON.stringify(PLUGIN_API_VERSION)}`,
      fix: `use a release of ${label} written for ${PLUGIN_API_VERSION} (see its changelog), or an OpenDepot release that implements ${JSON.stringify(value.apiVersion)}`,
    };
  }
  const authorFix = `report it to the authors of ${label}; it cannot be used until it is fixed`;
  if (!(PLUGIN_KINDS as readonly unknown[]).includes(value.kind)) {
    return { problem: 'not-a-plugin', message: `its kind ${JSON.stringify(value.kind)} is not one of ${PLUGIN_KINDS.join(', ')}`, fix: authorFix };
  }
  if (typeof value.name !== 'string' || !PLUGIN_NAME_PATTERN.test(value.name)) {
    return { problem: 'not-a-plugin', message: `its name ${JSON.stringify(value.name)} is not a valid plugin name (letters, digits and -, starting with a letter)`, fix: authorFix };
  }
  if (typeof value.create !== 'function') return { problem: 'not-a-plugin', message: 'it has no create() function', fix: authorFix };
  if (typeof value.configSchema !== 'object' || value.configSchema === null || Array.isArray(value.configSchema)) {
    return { problem: 'not-a-plugin', message: 'its configSchema is not a JSON Schema object', fix: authorFix };
  }
  return undefined;
}

const REQUIRED_METHODS: Readonly<Record<PluginKind, readonly string[]>> = {
  storage: ['put', 'get', 'stat', 'delete'],
  'archive-source': ['listVersions', 'fetch'],
  scanner: ['scan'],
  auth: ['authenticate'],
};

/** What is wrong with the value `create` returned, if anything (missing methods, bad capabilities). */
export function checkInstance(definition: Plugin, instance: unknown): string | undefined {
  if (typeof instance !== 'object' || instance === null) return `create() returned ${describeValue(instance)} instead of a ${definition.kind} instance`;
  const record = instance as Record<string, unknown>;
  const missing = REQUIRED_METHODS[definition.kind].filter((m) => typeof record[m] !== 'function');
  if (missing.length > 0) return `create() returned a ${definition.kind} instance without ${missing.map((m) => `${m}()`).join(', ')}`;
  if (definition.kind === 'storage') {
    const capabilities = record.capabilities as { presign?: unknown } | undefined;
    if (typeof capabilities !== 'object' || capabilities === null) return 'create() returned a storage instance without capabilities';
    if (capabilities.presign === true && typeof record.presign !== 'function') return 'create() returned a storage instance that claims presign but has no presign()';
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).slice(0, 8).join(', ') || '(none)'}`;
  return `a ${typeof value}`;
}
