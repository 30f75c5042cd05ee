/** The testkit's data helpers: deterministic, exact in size, cheap to stream. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunked, collectBytes, digestOf, MiB, pseudoRandomBytes, pseudoRandomChunks, sha256Hex } from '../src/testkit/index.ts';

test('pseudoRandomChunks yields exactly the size asked for, in chunks of the size asked for', async () => {
  const sizes: number[] = [];
  for await (const chunk of pseudoRandomChunks(2 * MiB + 5, { chunkBytes: MiB })) sizes.push(chunk.byteLength);
  assert.equal(sizes, [MiB, MiB, 5]);
  assert.equal((await pseudoRandomBytes(0)).byteLength, 0);
});

test('same seed gives the same bytes; other seeds and other chunks differ', async () => {
  const a = await pseudoRandomBytes(3 * MiB, { seed: 1 });
  const again = await pseudoRandomBytes(3 * MiB, { seed: 1 });
  const b = await pseudoRandomBytes(3 * MiB, { seed: 2 });
  assert.ok(a.equals(again));
  assert.not.ok(a.equals(b));
  assert.not.ok(a.subarray(0, MiB).equals(a.subarray(MiB, 2 * MiB)), 'consecutive chunks must differ');
  // Not trivially compressible: every byte value occurs.
  assert.is(new Set(a.subarray(0, 4096)).size, 256);
});

test('chunking does not change the bytes, and yields plain Uint8Arrays', async () => {
  const bytes = await pseudoRandomBytes(100_000, { seed: 4 });
  const chunks: Uint8Array[] = [];
  for await (const c of chunked(bytes, [1, 999, 7777])) chunks.push(c);
  assert.ok(chunks.every((c) => !Buffer.isBuffer(c)));
  assert.equal(
    chunks.slice(0, 3).map((c) => c.byteLength),
    [1, 999, 7777],
  );
  assert.ok((await collectBytes(chunked(bytes, [1, 999, 7777]))).equals(bytes));
  assert.equal(await digestOf(chunked(bytes)), { sha256: sha256Hex(bytes), size: bytes.byteLength });
});

test.run();
