/** Names, labels and storage keys the controllers give the objects they make. */
import { createHash } from 'node:crypto';
import { GROUP } from '@opendepot/core';

/** Label on a Version naming the kind of its owner (`Module` or `Provider`). */
export const OWNER_KIND_LABEL = `${GROUP}/owner-kind`;
/** Label on a Version naming its owning Module or Provider. */
export const OWNER_NAME_LABEL = `${GROUP}/owner-name`;
/** Label on a Version holding its version (sanitised for a label value). */
export const VERSION_LABEL = `${GROUP}/version`;
/** The finalizer that lets the Version controller delete the stored archive first. */
export const VERSION_FINALIZER = `${GROUP}/stored-archive`;
/** The finalizer that lets the Module controller delete its Versions without a garbage collector. */
export const MODULE_FINALIZER = `${GROUP}/versions`;

/**
 * Annotation the owner controller puts on a stored Version whose storageConfig it moves: the
 * storageConfig the archive was stored with (JSON). The Version controller copies the archive from
 * there (accepting only the recorded sha256), else from the source, then removes the annotation.
 */
export const PREVIOUS_STORAGE_ANNOTATION = `${GROUP}/previous-storage-config`;

const MAX_NAME = 253;

/** Makes `text` a valid label value (63 chars of `[A-Za-z0-9._-]`, alphanumeric at both ends). */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * The Version object name for `version` of owner `ownerName` (plus a platform for providers).
 * Version strings may hold `+` and capitals, which object names cannot: those are replaced,
 * and a short hash of the original keeps two such versions from colliding.
 */
export function versionObjectName(ownerName: string, version: string, platform?: { os: string; arch: string }): string {
  const raw = [ownerName, version, ...(platform ? [platform.os, platform.arch] : [])].join('-');
  let name = raw.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  if (name !== raw) name = `${name}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
  if (name.length > MAX_NAME) name = `${name.slice(0, MAX_NAME - 9)}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
  return name.replace(/^[^a-z0-9]+/, '');
}

/** Storage keys are derived in core, where the server derives the same ones. */
export { moduleStorageKey, providerStorageKey, scanReportKey } from '@opendepot/core';
