/**
 * Finds an archive source by name among the loaded plugins of kind `archive-source`. A name no
 * plugin answers to is a spec the operator cannot act on: the error names the field, the
 * sources that are configured and the fix.
 */
import type { PluginRegistry } from '@opendepot/core';
import { InputError, type ArchiveSource, type ArchiveSubject, type ListOptions } from '@opendepot/sdk';

/** Reads a key of a Secret in `namespace` (the host's own when unset). */
export type NamespacedSecretReader = (name: string, key: string, namespace?: string) => Promise<string>;

/** The archive sources of a running operator. */
export interface ArchiveSources {
  /** The source named `name`; throws {@link UnknownSourceError} when none is configured. `field` is the spec field that named it. */
  get(name: string, field: string): ArchiveSource;
  /** The configured names, sorted. */
  names(): string[];
}

/** A spec names a source no loaded plugin provides. */
export class UnknownSourceError extends InputError {
  constructor(name: string, field: string, configured: readonly string[]) {
    const list = configured.length > 0 ? configured.join(', ') : 'none';
    super(`${field} "${name}" names no configured archive source (configured: ${list})`, {
      field,
      hint: `add the plugin that provides "${name}" to plugins: (kind archive-source), or set ${field} to one of the configured sources`,
    });
    this.name = 'UnknownSourceError';
  }
}

/**
 * The sources of `registry`. Each call's subject gets a `readSecret` that reads the Secrets of
 * the namespace the subject's resource lives in (`settings.namespace`), so a source reaches the
 * credentials a Module references and no other namespace's.
 */
export function archiveSourcesOf(registry: PluginRegistry, readSecret: NamespacedSecretReader): ArchiveSources {
  const scoped = new Map<string, ArchiveSource>();
  for (const plugin of registry.ofKind('archive-source')) {
    if (plugin.instance) scoped.set(plugin.name, withResourceSecrets(plugin.instance, readSecret));
  }
  const names = [...scoped.keys()].sort();
  return {
    get(name, field) {
      const source = scoped.get(name);
      if (!source) throw new UnknownSourceError(name, field, names);
      return source;
    },
    names: () => names,
  };
}

function withResourceSecrets(source: ArchiveSource, readSecret: NamespacedSecretReader): ArchiveSource {
  const scope = (subject: ArchiveSubject): ArchiveSubject => {
    const namespace = typeof subject.settings?.namespace === 'string' ? subject.settings.namespace : undefined;
    // A missing Secret or key reads as undefined; the source says what it needed.
    return { ...subject, readSecret: (name, key) => readSecret(name, key, namespace).catch(() => undefined) };
  };
  return {
    listVersions: (subject, options) => source.listVersions(scope(subject), options),
    fetch: (subject, version, options) => source.fetch(scope(subject), version, options),
    ...(source.sourceRepository && { sourceRepository: (subject: ArchiveSubject, version: string, options?: ListOptions) => source.sourceRepository!(scope(subject), version, options) }),
  };
}
