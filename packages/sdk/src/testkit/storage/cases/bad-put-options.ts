import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { chunked, collectBytes, sha256Hex } from '../../data.ts';
import { expectCode, expectSuccess } from '../../expect.ts';
import { assertInfo } from '../info.ts';

/** Values of `PutOptions.sha256` that are not a SHA-256 (see `checkSha256`). */
export const BAD_SHA256: readonly string[] = ['', 'abc', 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), ` ${'a'.repeat(63)}`, `sha256:${'a'.repeat(64)}`];

/**
 * A malformed `PutOptions.sha256` or `size` is an input error, refused before anything is
 * stored; the hex of a SHA-256 may come in either case and is reported in lowercase.
 */
export const badPutOptions: StorageCase = {
  id: 'bad-put-options',
  name: 'a put with a malformed sha256 or size is refused with an input error; an uppercase sha256 is accepted',
  async run({ backend, key }) {
    const bytes = Buffer.from('content whose checksum is given in various shapes');
    const digest = { sha256: sha256Hex(bytes), size: bytes.byteLength };

    const fresh = key('fresh');
    for (const sha256 of BAD_SHA256) {
      await expectCode(backend.put(fresh, chunked(bytes), { sha256 }), 'input', `put with sha256 ${JSON.stringify(sha256)}`);
    }
    for (const size of [-1, 1.5, Number.NaN]) {
      await expectCode(backend.put(fresh, chunked(bytes), { size }), 'input', `put with size ${size}`);
    }
    await expectCode(backend.stat(fresh), 'not_found', 'stat after the refused puts');

    const what = 'put with the right sha256 in uppercase';
    assertInfo(await expectSuccess(backend.put(fresh, chunked(bytes), { sha256: digest.sha256.toUpperCase(), size: bytes.byteLength }), what), fresh, digest, what);
    const got = await backend.get(fresh);
    assertInfo(got.info, fresh, digest, 'get after a put with an uppercase sha256');
    assert.ok((await collectBytes(got.body)).equals(bytes), 'get after a put with an uppercase sha256 must return the bytes put');
  },
};
