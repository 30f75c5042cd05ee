/** One item of the `plugins:` configuration list, and its checks. */
import { PLUGIN_KINDS, type PluginKind } from '@opendepot/sdk';
import { joinFieldPath } from '../config/field-path.ts';
import type { SchemaProblem } from '../config/json-schema.ts';

/**
 * A plugin to load. Exactly one of `package` and `path`.
 *
 * @example
 * plugins:
 *   - package: '@opendepot/plugin-fs'            # storage: config comes from each storageConfig
 *   - package: '@opendepot/plugin-sources/git'   # one plugin of a package offering several
 *     config: { allowedHosts: [git.example.com] }
 *   - package: '@opendepot/plugin-trivy'
 *     config: { severity: [HIGH, CRITICAL] }
 *   - path: ./dev/my-plugin                      # a local directory or file, for development
 *     kind: auth                                 # optional: refuse the plugin if it is another kind
 */
export interface PluginEntry {
  /**
   * npm package name, resolved from the plugins directory, then the host's base directory; a
   * package that offers several plugins names each by a subpath, e.g. `@opendepot/plugin-sources/git`.
   */
  package?: string;
  /** A local package directory or module file, relative to the configuration file's directory. */
  path?: string;
  /** The kind the plugin must be; a plugin of another kind is refused. */
  kind?: PluginKind;
  /** `false` skips the entry (handy for toggling a plugin in Helm values). Default: true. */
  enabled?: boolean;
  /**
   * The plugin's config, validated against its `configSchema`. Default `{}`. Storage plugins take
   * none here: their config is the `storageConfig.<name>` of each resource (or the default).
   */
  config?: Record<string, unknown>;
}

/** JSON Schema of one entry (the either-or of `package` and `path` is in {@link checkPluginEntry}). */
export const pluginEntrySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    package: { type: 'string', minLength: 1, maxLength: 214 },
    path: { type: 'string', minLength: 1, maxLength: 4096 },
    kind: { enum: [...PLUGIN_KINDS] },
    enabled: { type: 'boolean' },
    config: { type: 'object' },
  },
} as const;

/** An npm package name, optionally with a subpath of its `exports` (a package offering several plugins, one per entry point). */
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*(\/[a-z0-9-._~]+)*$/;

/**
 * Problems of an entry that the schema cannot say well. `base` is the entry's path, e.g.
 * `plugins[2]`. Assumes the entry already passed {@link pluginEntrySchema}.
 */
export function checkPluginEntry(entry: PluginEntry, base: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (entry.package === undefined && entry.path === undefined) {
    problems.push({ path: base, message: 'set package (an npm package name) or path (a local directory or file)' });
  } else if (entry.package !== undefined && entry.path !== undefined) {
    problems.push({ path: base, message: 'set only one of package and path' });
  }
  if (entry.package !== undefined && !PACKAGE_NAME.test(entry.package)) {
    const local = /^[./]|^[A-Za-z]:\\/.test(entry.package);
    problems.push({
      path: joinFieldPath(base, 'package'),
      message: local
        ? `${JSON.stringify(entry.package)} is a file path, not a package name: use path: for a local directory or file`
        : `${JSON.stringify(entry.package)} is not a valid npm package name`,
    });
  }
  return problems;
}
