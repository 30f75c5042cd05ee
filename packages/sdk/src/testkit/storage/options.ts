/** What a plugin author passes to the storage conformance suite. */
import type { StorageBackend } from '../../storage.ts';
import { GiB, MiB } from '../data.ts';

/** Options of {@link storageConformanceCases}. */
export interface StorageConformanceOptions {
  /**
   * Makes the backend under test. Called once per case (and once up front to read its
   * capabilities); each instance is `close`d when its case ends.
   */
  create(): Promise<StorageBackend> | StorageBackend;
  /** Called after each case (and after the capability probe), e.g. to empty a bucket or remove a directory. */
  cleanup?(): Promise<void> | void;
  /** Size of the object streamed through put and get to check memory stays flat. Default 1 GiB. */
  bigObjectBytes?: number;
  /** Largest allowed growth of resident and JavaScript memory during that transfer. Default 64 MiB. */
  memoryGrowthLimitBytes?: number;
  /** Size of each of the objects two concurrent writers race to store. Default 16 MiB. */
  raceObjectBytes?: number;
  /** How many times the writers race. Default 3. */
  raceRounds?: number;
  /** Size of the object whose full read `stat` must be much faster than. Default 64 MiB. */
  statObjectBytes?: number;
  /** How soon after an abort the operation must fail. Default 2000 ms. */
  abortDeadlineMs?: number;
  /** Prefix of every key the suite writes; each case adds its own unique part. Default `opendepot-conformance/`. */
  keyPrefix?: string;
  /** Fetches presigned URLs. Default: the global `fetch`. */
  fetch?: (url: string) => Promise<Response>;
  /** Receives figures worth seeing (throughput, memory growth). Default: discarded. */
  log?(message: string): void;
}

/** The options with every default applied. */
export interface StorageSettings {
  bigObjectBytes: number;
  memoryGrowthLimitBytes: number;
  raceObjectBytes: number;
  raceRounds: number;
  statObjectBytes: number;
  abortDeadlineMs: number;
  keyPrefix: string;
  fetch: (url: string) => Promise<Response>;
  log: (message: string) => void;
}

/** Applies the defaults and checks the numbers make sense. */
export function resolveSettings(options: StorageConformanceOptions): StorageSettings {
  const settings: StorageSettings = {
    bigObjectBytes: options.bigObjectBytes ?? GiB,
    memoryGrowthLimitBytes: options.memoryGrowthLimitBytes ?? 64 * MiB,
    raceObjectBytes: options.raceObjectBytes ?? 16 * MiB,
    raceRounds: options.raceRounds ?? 3,
    statObjectBytes: options.statObjectBytes ?? 64 * MiB,
    abortDeadlineMs: options.abortDeadlineMs ?? 2000,
    keyPrefix: options.keyPrefix ?? 'opendepot-conformance/',
    fetch: options.fetch ?? ((url) => fetch(url)),
    log: options.log ?? (() => undefined),
  };
  for (const name of ['bigObjectBytes', 'memoryGrowthLimitBytes', 'raceObjectBytes', 'raceRounds', 'statObjectBytes', 'abortDeadlineMs'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] <= 0) throw new RangeError(`storageConformanceCases: ${name} must be a positive integer, got ${settings[name]}`);
  }
  if (settings.keyPrefix.startsWith('/')) throw new RangeError('storageConformanceCases: keyPrefix must be relative');
  return settings;
}
