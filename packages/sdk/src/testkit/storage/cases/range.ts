import * as assert from 'node:assert/strict';
import type { GetOptions } from '../../../storage.ts';
import type { StorageCase } from '../case.ts';
import { collectBytes, MiB, pseudoRandomBytes, pseudoRandomChunks, sha256Hex } from '../../data.ts';
import { assertInfo } from '../info.ts';

/** `GetOptions.range` is inclusive like HTTP `Range: bytes=start-end`, and an end past the object is clamped. */
export const rangeGet: StorageCase = {
  id: 'range',
  name: 'get with a range returns exactly those bytes',
  async run({ backend, key }) {
    const k = key('ranged.bin');
    const size = 3 * MiB + 123;
    const bytes = await pseudoRandomBytes(size, { seed: 9 });
    const digest = { sha256: sha256Hex(bytes), size };
    await backend.put(k, pseudoRandomChunks(size, { seed: 9 }));

    const ranges: NonNullable<GetOptions['range']>[] = [
      { start: 0, end: 0 },
      { start: 0, end: 9 },
      { start: 10, end: 19 },
      { start: 65_530, end: 70_000 },
      { start: MiB - 1, end: 2 * MiB + 1 },
      { start: size - 10 },
      { start: size - 1, end: size - 1 },
      { start: size - 5, end: size + 100 },
      { start: 0 },
      { start: 0, end: size - 1 },
    ];
    for (const range of ranges) {
      const got = await backend.get(k, { range });
      assertInfo(got.info, k, digest, `get with range ${JSON.stringify(range)}: info must describe the whole object`);
      const part = await collectBytes(got.body);
      const want = bytes.subarray(range.start, range.end === undefined ? size : Math.min(size, range.end + 1));
      assert.ok(
        part.equals(want),
        `get with range ${JSON.stringify(range)} returned ${part.byteLength} bytes (sha256 ${sha256Hex(part)}) instead of bytes ${range.start}..${range.start + want.byteLength - 1} (${want.byteLength} bytes)`,
      );
    }
  },
};
