import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { StorageCase } from '../case.ts';
import { MiB, pseudoRandomChunks } from '../../data.ts';
import { MemoryWatch } from '../../memory.ts';
import { assertInfo } from '../info.ts';

const SAMPLE_EVERY_BYTES = 16 * MiB;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/**
 * A large object streams through put and get while memory stays flat. The data is generated
 * and hashed on the fly, so the suite itself never holds more than a chunk.
 */
export const bigObject: StorageCase = {
  id: 'big-object',
  name: 'streams a large object through put and get without buffering it',
  async run({ backend, key, settings }) {
    const k = key('big.bin');
    const total = settings.bigObjectBytes;
    const limit = settings.memoryGrowthLimitBytes;
    // Without a forced collection garbage inflates the figures, so the bound is looser; a
    // backend that buffers the whole object still exceeds it.
    const watch = new MemoryWatch();
    const allowed = watch.growth().collected ? limit : 3 * limit;

    const sent = createHash('sha256');
    let sinceSample = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for await (const chunk of pseudoRandomChunks(total, { seed: 42 })) {
        sent.update(chunk);
        sinceSample += chunk.byteLength;
        if (sinceSample >= SAMPLE_EVERY_BYTES) {
          sinceSample = 0;
          watch.sample();
        }
        yield chunk;
      }
    }

    let t = performance.now();
    const info = await backend.put(k, body(), { size: total });
    const putMs = performance.now() - t;
    const expected = { sha256: sent.digest('hex'), size: total };
    assertInfo(info, k, expected, 'put of the large object');
    const afterPut = watch.growth();

    t = performance.now();
    const got = await backend.get(k);
    assertInfo(got.info, k, expected, 'get of the large object: info');
    const received = createHash('sha256');
    let size = 0;
    sinceSample = 0;
    for await (const chunk of got.body) {
      received.update(chunk);
      size += chunk.byteLength;
      sinceSample += chunk.byteLength;
      if (sinceSample >= SAMPLE_EVERY_BYTES) {
        sinceSample = 0;
        watch.sample();
      }
    }
    const getMs = performance.now() - t;
    const growth = watch.growth();
    settings.log(
      `big object ${mib(total)}: put ${(putMs / 1000).toFixed(2)} s (${((total / MiB / putMs) * 1000).toFixed(0)} MiB/s), ` +
        `get ${(getMs / 1000).toFixed(2)} s (${((total / MiB / getMs) * 1000).toFixed(0)} MiB/s); ` +
        `peak growth during put rss ${mib(afterPut.rss)} js ${mib(afterPut.js)}, overall rss ${mib(growth.rss)} js ${mib(growth.js)} ` +
        `(${growth.samples} samples${growth.collected ? ', after gc' : ', no --expose-gc'})`,
    );
    assert.equal(size, total, 'get of the large object returned a different number of bytes');
    assert.equal(received.digest('hex'), expected.sha256, 'get of the large object returned different bytes');
    await backend.delete(k);

    assert.ok(growth.samples >= 2 || total < 2 * SAMPLE_EVERY_BYTES, 'memory was not sampled during the transfer');
    assert.ok(
      afterPut.js <= allowed && afterPut.rss <= allowed,
      `put held on to data: memory grew by rss ${mib(afterPut.rss)}, js ${mib(afterPut.js)} while streaming ${mib(total)} (limit ${mib(allowed)})`,
    );
    assert.ok(growth.js <= allowed && growth.rss <= allowed, `get held on to data: memory grew by rss ${mib(growth.rss)}, js ${mib(growth.js)} while streaming ${mib(total)} (limit ${mib(allowed)})`);
  },
};
