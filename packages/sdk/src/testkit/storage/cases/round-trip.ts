import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { chunked, collectBytes, MiB, pseudoRandomBytes, sha256Hex } from '../../data.ts';
import { assertInfo } from '../info.ts';

/** Bytes put under a key come back unchanged, and every call describes them the same way. */
export const roundTrip: StorageCase = {
  id: 'round-trip',
  name: 'put then get returns the same bytes, with size and SHA-256',
  async run({ backend, key }) {
    const objects = [
      { key: key('empty'), bytes: Buffer.alloc(0), sizes: [1] },
      { key: key('one-byte'), bytes: Buffer.from([0x2a]), sizes: [1] },
      // Odd chunk sizes and plain Uint8Array chunks, as an HTTP body delivers them.
      { key: key('nested/dir/archive.zip'), bytes: await pseudoRandomBytes(3 * MiB + 17, { seed: 7 }), sizes: [1, 4095, 65_536, 1_000_003] },
      // Characters that need escaping in URLs and some file systems, but are valid in keys.
      { key: key('v1.2.3-rc.1+build name %20~ü/=,@.tar.gz'), bytes: Buffer.from('odd characters\n'), sizes: [3] },
    ];
    for (const o of objects) {
      const digest = { sha256: sha256Hex(o.bytes), size: o.bytes.byteLength };
      assertInfo(await backend.put(o.key, chunked(o.bytes, o.sizes)), o.key, digest, `put(${JSON.stringify(o.key)}) result`);
    }
    // Read back only after every put, so one object cannot hide that another overwrote it.
    for (const o of objects) {
      const digest = { sha256: sha256Hex(o.bytes), size: o.bytes.byteLength };
      const got = await backend.get(o.key);
      assertInfo(got.info, o.key, digest, `get(${JSON.stringify(o.key)}).info`);
      const bytes = await collectBytes(got.body);
      assert.ok(bytes.equals(o.bytes), `get(${JSON.stringify(o.key)}) returned ${bytes.byteLength} bytes (sha256 ${sha256Hex(bytes)}) instead of the ${o.bytes.byteLength} put`);
      assertInfo(await backend.stat(o.key), o.key, digest, `stat(${JSON.stringify(o.key)})`);
    }

    // Overwriting replaces the content and what stat reports.
    const target = objects[2]!.key;
    const replacement = Buffer.from('a shorter replacement');
    const digest = { sha256: sha256Hex(replacement), size: replacement.byteLength };
    assertInfo(await backend.put(target, chunked(replacement)), target, digest, 'put over an existing key');
    assert.ok((await collectBytes((await backend.get(target)).body)).equals(replacement), 'get after an overwrite must return the new bytes');
    assertInfo(await backend.stat(target), target, digest, 'stat after an overwrite');
  },
};
