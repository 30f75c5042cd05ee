/** How a storage check is written, and how it becomes a framework-independent case. */
import { randomBytes } from 'node:crypto';
import type { StorageBackend, StorageCapabilities } from '../../storage.ts';
import type { ConformanceCase } from '../case.ts';
import { withInstance } from '../lifecycle.ts';
import type { StorageConformanceOptions, StorageSettings } from './options.ts';

/** What a storage check gets: a fresh backend and a way to name keys no other run uses. */
export interface StorageCaseContext {
  backend: StorageBackend;
  /** A key unique to this run of this case, ending in `name`. */
  key(name: string): string;
  settings: StorageSettings;
}

/** Identifiers of the storage conformance cases. */
export type StorageCaseId =
  | 'capabilities'
  | 'round-trip'
  | 'big-object'
  | 'stat'
  | 'not-found'
  | 'delete'
  | 'bad-keys'
  | 'bad-put-options'
  | 'bad-ranges'
  | 'checksum-mismatch'
  | 'abort-put'
  | 'abort-get'
  | 'concurrent-writers'
  | 'range'
  | 'presign';

/** One storage check. */
export interface StorageCase {
  id: StorageCaseId;
  /** Name without the `storage: ` prefix. */
  name: string;
  /** Whether the check applies to a backend with these capabilities. Default: always. */
  appliesTo?(capabilities: StorageCapabilities): boolean;
  run(context: StorageCaseContext): Promise<void>;
}

/** Wraps a check so it creates its backend, and closes and cleans up after it whatever happens. */
export function toConformanceCase(check: StorageCase, options: StorageConformanceOptions, settings: StorageSettings): ConformanceCase<StorageCaseId> {
  return {
    id: check.id,
    name: `storage: ${check.name}`,
    run: async () => {
      const run = randomBytes(6).toString('hex');
      const key = (name: string): string => `${settings.keyPrefix}${check.id}/${run}/${name}`;
      await withBackend(options, (backend) => check.run({ backend, key, settings }));
    },
  };
}

/** Creates a backend, runs `body`, then closes it and runs the cleanup; the first error wins. */
export function withBackend<T>(options: StorageConformanceOptions, body: (backend: StorageBackend) => Promise<T>): Promise<T> {
  return withInstance(
    () => options.create(),
    body,
    () => options.cleanup?.(),
  );
}
