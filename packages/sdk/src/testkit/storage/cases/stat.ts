import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { digestOf, pseudoRandomChunks } from '../../data.ts';
import { assertInfo } from '../info.ts';

const STAT_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * `stat` reports the checksum recorded at put time instead of reading the object. A backend
 * cannot be watched from outside, so this compares timings: reading a large object in full
 * must take several times longer than a stat of it.
 */
export const stat: StorageCase = {
  id: 'stat',
  name: 'stat returns the recorded size and checksum without reading the object',
  async run({ backend, key, settings }) {
    const k = key('stat.bin');
    const total = settings.statObjectBytes;
    const expected = await digestOf(pseudoRandomChunks(total, { seed: 3 }));
    const put = await backend.put(k, pseudoRandomChunks(total, { seed: 3 }), { size: total });
    assertInfo(put, k, expected, 'put');

    // Warm up both paths (connections, caches) before timing them.
    assertInfo(await backend.stat(k), k, expected, 'stat');
    await digestOf((await backend.get(k)).body);

    let t = performance.now();
    for await (const _ of (await backend.get(k)).body) {
      // Drained, not hashed: a stat that reads the object would at least have to read it.
    }
    const readMs = performance.now() - t;

    const statMs: number[] = [];
    for (let i = 0; i < STAT_RUNS; i++) {
      t = performance.now();
      const info = await backend.stat(k);
      statMs.push(performance.now() - t);
      assertInfo(info, k, expected, `stat #${i + 1}`);
      if (put.modifiedAt !== undefined && info.modifiedAt !== undefined) {
        assert.equal(info.modifiedAt.getTime(), put.modifiedAt.getTime(), 'stat must report the modification time put reported');
      }
    }
    const statMedian = median(statMs);
    settings.log(`stat: median ${statMedian.toFixed(3)} ms; full read of ${total} bytes ${readMs.toFixed(1)} ms`);
    assert.ok(
      statMedian * 3 < readMs,
      `stat took ${statMedian.toFixed(2)} ms (median of ${STAT_RUNS}), more than a third of the ${readMs.toFixed(2)} ms a full read of the ${total}-byte object took: it seems to read the object`,
    );
  },
};
