import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { chunked, collectBytes, sha256Hex } from '../../data.ts';
import { expectCode, expectSuccess } from '../../expect.ts';
import { assertInfo } from '../info.ts';

/**
 * `PutOptions.sha256` guards the key: content that hashes differently is an integrity error
 * (not an input error: the caller's arguments were fine, the bytes were not) and never becomes
 * visible.
 */
export const checksumMismatch: StorageCase = {
  id: 'checksum-mismatch',
  name: 'a put whose content does not match PutOptions.sha256 is refused with an integrity error and leaves nothing behind',
  async run({ backend, key }) {
    const old = Buffer.from('the old object, which must survive');
    const incoming = Buffer.alloc(256 * 1024, 0x61);
    const wrong = sha256Hex(Buffer.from('something else'));

    const fresh = key('fresh');
    await expectCode(backend.put(fresh, chunked(incoming), { sha256: wrong }), 'integrity', 'put with a wrong sha256 under a new key');
    await expectCode(backend.stat(fresh), 'not_found', 'stat after the refused put');
    await expectCode(backend.get(fresh), 'not_found', 'get after the refused put');

    const existing = key('existing');
    const oldDigest = { sha256: sha256Hex(old), size: old.byteLength };
    await backend.put(existing, chunked(old));
    await expectCode(backend.put(existing, chunked(incoming), { sha256: wrong }), 'integrity', 'put with a wrong sha256 over an existing object');
    const what = 'stat of the object a refused put tried to replace';
    assertInfo(await expectSuccess(backend.stat(existing), what), existing, oldDigest, what);
    const got = await expectSuccess(backend.get(existing), 'get of the object a refused put tried to replace');
    assertInfo(got.info, existing, oldDigest, 'get of the object a refused put tried to replace');
    assert.ok((await collectBytes(got.body)).equals(old), 'a refused put must leave the old object intact');

    // The right checksum is accepted.
    const right = { sha256: sha256Hex(incoming), size: incoming.byteLength };
    assertInfo(await backend.put(existing, chunked(incoming), { sha256: right.sha256 }), existing, right, 'put with the right sha256');
    assertInfo(await backend.stat(existing), existing, right, 'stat after a put with the right sha256');
  },
};
