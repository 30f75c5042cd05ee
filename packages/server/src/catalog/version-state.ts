/** Decides whether a Version may be served, and if not, how to tell the client why. */
import { CONDITIONS, REASONS, readyReasonServes, reasonMeaning, versionStorageKey, type Version } from '@opendepot/core';
import type { VersionState } from './types.ts';

type Condition = NonNullable<NonNullable<Version['status']>['conditions']>[number];

const SHA256_HEX = /^[a-f0-9]{64}$/;

/** The log line of a Version refused because its status names a foreign storage key. */
export const FOREIGN_KEY_MESSAGE = 'Version is not served: its status names a storage key that its spec and namespace do not derive';

function condition(version: Version, type: string): Condition | undefined {
  return version.status?.conditions?.find((c) => c.type === type);
}

// A reason is a CamelCase code (the CRD's pattern also allows ',' and ':'); anything else is not shown.
const PUBLIC_REASON = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** What a client may be told of a condition (its reason code) and what only the log gets (its message). */
function explain(c: Condition, fallback: string): { reason: string; message?: string } {
  const reason = PUBLIC_REASON.test(c.reason) ? c.reason : fallback;
  const message = [c.reason, c.message].filter((s) => s !== undefined && s !== '').join(': ');
  return message === '' ? { reason } : { reason, message };
}

/**
 * The state of a Version. Only a Version whose `Ready` condition is True and whose status
 * records the checksum, size and storage key of its archive is servable: that checksum is
 * what the archive route verifies the stored bytes against. The key served is the one derived
 * from spec and namespace; a status naming another key (e.g. another namespace's archive,
 * written through the status subresource) is refused, never followed.
 */
export function versionState(version: Version): VersionState {
  const status = version.status;
  if (version.metadata.deletionTimestamp) {
    return { kind: 'removing', detail: 'it is being removed', reason: REASONS.Deleting };
  }
  const derivedKey = versionStorageKey(version);
  if (derivedKey === undefined) {
    return { kind: 'stalled', detail: 'its spec does not name what its archive is', reason: REASONS.InvalidSpec };
  }
  if (typeof status?.storageKey === 'string' && status.storageKey !== '' && status.storageKey !== derivedKey) {
    return { kind: 'stalled', detail: 'its status names a storage key other than the one its spec derives', reason: REASONS.StorageKeyMismatch, foreignStorageKey: status.storageKey };
  }
  if (status?.scan?.blocked === true) {
    return { kind: 'blocked', detail: 'the scan policy blocked it', reason: REASONS.ScanBlocked, message: `scanner ${status.scan.scanner ?? 'unknown'}` };
  }
  const ready = condition(version, CONDITIONS.Ready);
  // Servable: Ready=True with a reason the reason table does not call unservable, and a complete record.
  const readyTrue = ready?.status === 'True' && readyReasonServes(ready.reason);
  if (readyTrue && typeof status?.checksum === 'string' && SHA256_HEX.test(status.checksum) && Number.isSafeInteger(status.size) && (status.size ?? -1) >= 0 && status.storageKey === derivedKey) {
    return {
      kind: 'ready',
      checksum: status.checksum,
      size: status.size!,
      // The same value as derivedKey (checked above); the status's string, so no second copy is kept.
      storageKey: status.storageKey,
      storageConfig: version.spec.storageConfig,
      fileFormat: version.spec.fileFormat ?? 'zip',
    };
  }
  const stalled = condition(version, CONDITIONS.Stalled);
  if (stalled?.status === 'True') {
    return { kind: 'stalled', detail: reasonMeaning(stalled.reason)?.clientDetail ?? 'it is stalled', ...explain(stalled, CONDITIONS.Stalled) };
  }
  if (readyTrue) {
    // Ready without a complete record would be an operator bug; never serve unverifiable bytes.
    return { kind: 'syncing', detail: 'it is still being synced', reason: REASONS.ChecksumNotRecorded };
  }
  const progress = ready ?? condition(version, CONDITIONS.Reconciling);
  return { kind: 'syncing', detail: 'it is still being synced', ...(progress ? explain(progress, REASONS.Progressing) : { reason: REASONS.Progressing }) };
}
