/** The storage conformance suite: every `StorageBackend` plugin must pass it. */
import type { ConformanceCase } from '../case.ts';
import { toConformanceCase, withBackend, type StorageCase, type StorageCaseId } from './case.ts';
import { abortGet, abortPut } from './cases/abort.ts';
import { badKeys } from './cases/bad-keys.ts';
import { badPutOptions } from './cases/bad-put-options.ts';
import { badRanges } from './cases/bad-ranges.ts';
import { bigObject } from './cases/big-object.ts';
import { capabilities } from './cases/capabilities.ts';
import { checksumMismatch } from './cases/checksum.ts';
import { idempotentDelete } from './cases/delete.ts';
import { notFound } from './cases/not-found.ts';
import { presign } from './cases/presign.ts';
import { concurrentWriters } from './cases/race.ts';
import { rangeGet } from './cases/range.ts';
import { roundTrip } from './cases/round-trip.ts';
import { stat } from './cases/stat.ts';
import { resolveSettings, type StorageConformanceOptions } from './options.ts';

export type { StorageConformanceOptions } from './options.ts';
export type { StorageCaseId } from './case.ts';
export { BAD_KEYS } from './cases/bad-keys.ts';
export { BAD_SHA256 } from './cases/bad-put-options.ts';
export { BAD_RANGES } from './cases/bad-ranges.ts';

const CHECKS: readonly StorageCase[] = [
  capabilities,
  roundTrip,
  bigObject,
  stat,
  notFound,
  idempotentDelete,
  badKeys,
  badPutOptions,
  badRanges,
  checksumMismatch,
  abortPut,
  abortGet,
  concurrentWriters,
  rangeGet,
  presign,
];

/**
 * The storage conformance cases that apply to the backend `options.create` makes. It creates
 * one backend up front to read its capabilities (so `presign` is checked exactly when the
 * backend declares it), then every case creates, closes and cleans up its own.
 *
 * Register every case with your test framework; none may be skipped. The big-object case
 * measures memory, so run the file with `node --expose-gc` for precise figures.
 *
 * @example
 * import { test } from 'uvu';
 * import { storageConformanceCases } from '@opendepot/sdk/testkit';
 * const cases = await storageConformanceCases({
 *   create: () => new MyStorage({ bucket }),
 *   cleanup: () => emptyBucket(bucket),
 * });
 * for (const c of cases) test(c.name, c.run);
 * test.run();
 */
export async function storageConformanceCases(options: StorageConformanceOptions): Promise<ConformanceCase<StorageCaseId>[]> {
  const settings = resolveSettings(options);
  const declared = await withBackend(options, async (backend) => ({ ...backend.capabilities }));
  return CHECKS.filter((check) => check.appliesTo?.(declared) ?? true).map((check) => toConformanceCase(check, options, settings));
}
