/** Checks of the `ObjectInfo` a backend reports. */
import * as assert from 'node:assert/strict';
import type { ObjectInfo } from '../../storage.ts';
import type { Digest } from '../data.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Asserts `info` is well-formed and describes `key` holding the bytes of `digest`. */
export function assertInfo(info: ObjectInfo, key: string, digest: Digest, what: string): void {
  assert.ok(typeof info === 'object' && info !== null, `${what}: expected an ObjectInfo, got ${String(info)}`);
  assert.equal(info.key, key, `${what}: info.key`);
  assert.ok(SHA256_HEX.test(info.sha256), `${what}: info.sha256 must be 64 lowercase hex digits, got ${JSON.stringify(info.sha256)}`);
  assert.equal(info.size, digest.size, `${what}: info.size`);
  assert.equal(info.sha256, digest.sha256, `${what}: info.sha256 must be the SHA-256 of the stored bytes`);
  if (info.modifiedAt !== undefined) {
    assert.ok(info.modifiedAt instanceof Date && !Number.isNaN(info.modifiedAt.getTime()), `${what}: info.modifiedAt must be a valid Date when present`);
  }
}
