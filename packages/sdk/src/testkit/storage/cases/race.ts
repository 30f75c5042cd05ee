import * as assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { ObjectInfo } from '../../../storage.ts';
import type { StorageCase } from '../case.ts';
import { digestOf, pseudoRandomBytes, pseudoRandomChunks, type Digest } from '../../data.ts';
import { describeError, fail } from '../../expect.ts';
import { isOpenDepotError } from '../../../errors.ts';
import { assertInfo } from '../info.ts';

const CHUNK_BYTES = 256 * 1024;
/** How much of the object a quick read looks at. */
const PEEK_BYTES = 16;

/** The first `PEEK_BYTES` of `body`; the rest is abandoned (the stream is closed). */
async function peek(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= PEEK_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, PEEK_BYTES);
}

/** A writer's body: yields to the event loop between chunks, so both writers and the reader interleave. */
async function* interleaved(total: number, seed: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of pseudoRandomChunks(total, { seed, chunkBytes: CHUNK_BYTES })) {
    await tick();
    yield chunk;
  }
}

/**
 * Two writers race to replace an object while two readers keep looking: every stat and get must
 * show one complete object (the old one or either new one) whose bytes match its checksum, the
 * key must never disappear, and the winner must be one of the two.
 */
export const concurrentWriters: StorageCase = {
  id: 'concurrent-writers',
  name: 'concurrent writers of one key never expose a partial or inconsistent object',
  async run({ backend, key, settings }) {
    const k = key('contested');
    const size = settings.raceObjectBytes;
    const initial = await backend.put(k, pseudoRandomChunks(CHUNK_BYTES, { seed: 1000 }));
    const known = new Map<string, Digest>([[initial.sha256, { sha256: initial.sha256, size: initial.size }]]);
    // How each object starts, to check quick reads against what their info claims.
    const starts = new Map<string, Buffer>([[initial.sha256, await pseudoRandomBytes(PEEK_BYTES, { seed: 1000 })]]);
    let observations = 0;

    function checkSeen(info: ObjectInfo, what: string): Digest {
      const digest = known.get(info.sha256);
      if (digest === undefined) fail(`${what}: reported sha256 ${info.sha256}, which is neither the old object nor either writer's`);
      assertInfo(info, k, digest, what);
      return digest;
    }

    for (let round = 1; round <= settings.raceRounds; round++) {
      const seeds = [2 * round, 2 * round + 1] as const;
      const inputs = await Promise.all(seeds.map((seed) => digestOf(pseudoRandomChunks(size, { seed, chunkBytes: CHUNK_BYTES }))));
      for (const [i, d] of inputs.entries()) {
        known.set(d.sha256, d);
        starts.set(d.sha256, await pseudoRandomBytes(PEEK_BYTES, { seed: seeds[i]! }));
      }

      let settled = 0;
      const writers = seeds.map((seed) =>
        backend
          .put(k, interleaved(size, seed))
          .then(
            (info) => ({ ok: true as const, info }),
            (err: unknown) => ({ ok: false as const, err }),
          )
          .finally(() => settled++),
      );

      // Two readers until both writers are done: one checks whole objects, the other opens the
      // object over and over, to land in the moment a writer swaps it.
      let reads = 0;
      let peeks = 0;
      let stop = false; // set when a reader fails, so the other one stops too
      const done = () => settled === writers.length;
      const wholeReader = async (): Promise<void> => {
        while (!stop && (!done() || reads === 0)) {
          const what = `round ${round}, read ${reads + 1} while two writers race`;
          const seen = await backend.stat(k).catch((err: unknown) => fail(`${what}: stat failed with ${describeError(err)}; an object being replaced must stay visible`));
          checkSeen(seen, `${what}: stat`);
          const got = await backend.get(k).catch((err: unknown) => fail(`${what}: get failed with ${describeError(err)}; an object being replaced must stay visible`));
          const claimed = checkSeen(got.info, `${what}: get().info`);
          const actual = await digestOf(got.body);
          assert.deepEqual(actual, claimed, `${what}: get returned bytes that do not match the sha256 and size it reported`);
          reads++;
          await tick();
        }
      };
      const quickReader = async (): Promise<void> => {
        while (!stop && (!done() || peeks === 0)) {
          const what = `round ${round}, quick read ${peeks + 1} while two writers race`;
          const got = await backend.get(k).catch((err: unknown) => fail(`${what}: get failed with ${describeError(err)}; an object being replaced must stay visible`));
          checkSeen(got.info, `${what}: get().info`);
          assert.ok((await peek(got.body)).equals(starts.get(got.info.sha256)!), `${what}: the bytes are not those of the object its info describes`);
          peeks++;
          await tick(); // never starve the writers, even against a backend that does no I/O
        }
      };
      await Promise.all(
        [wholeReader(), quickReader()].map((reader) =>
          reader.catch((err: unknown) => {
            stop = true;
            throw err;
          }),
        ),
      );
      observations += reads + peeks;

      const results = await Promise.all(writers);
      const winners = new Set<string>();
      results.forEach((r, i) => {
        const what = `round ${round}, writer ${i + 1}`;
        if (r.ok) {
          assertInfo(r.info, k, inputs[i]!, `${what}: put result`);
          winners.add(inputs[i]!.sha256);
        } else if (!isOpenDepotError(r.err, 'conflict')) {
          fail(`${what}: put failed with ${describeError(r.err)}; a concurrent writer may only be refused with a conflict error`);
        }
      });
      assert.ok(winners.size > 0, `round ${round}: both writers were refused`);

      const final = await backend.stat(k);
      assert.ok(winners.has(final.sha256), `round ${round}: after the race the object (sha256 ${final.sha256}) is not what either successful writer put`);
      checkSeen(final, `round ${round}: stat after the race`);
      const got = await backend.get(k);
      assert.deepEqual(await digestOf(got.body), known.get(final.sha256), `round ${round}: the final object's bytes do not match its checksum`);
    }
    settings.log(`concurrent-writers: ${observations} reads during ${settings.raceRounds} races of two ${size}-byte writers`);
  },
};
