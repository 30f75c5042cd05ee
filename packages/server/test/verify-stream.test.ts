/** The verifying pass-through on its own: what it lets through, and when. */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveMismatchError, createVerifyingStream } from '../src/index.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** Runs the chunks through a verifier and collects what came out and how it ended. */
async function run(chunks: Buffer[], verifier: Transform): Promise<{ out: Buffer; error?: unknown }> {
  const received: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => received.push(c));
  try {
    await pipeline(Readable.from(chunks), verifier, sink);
    return { out: Buffer.concat(received) };
  } catch (error) {
    return { out: Buffer.concat(received), error };
  }
}

test('matching content passes through whole and unchanged', async () => {
  const data = randomBytes(200_000);
  let pushed = 0;
  let verified = false;
  const { out, error } = await run(chunksOf(data, 16_384), createVerifyingStream({ sha256: sha256(data), size: data.length }, { onPush: (n) => (pushed += n), onVerified: () => (verified = true) }));
  assert.is(error, undefined);
  assert.ok(out.equals(data));
  assert.is(pushed, data.length);
  assert.ok(verified);
});

test('a checksum mismatch errors and withholds the last chunk', async () => {
  const data = randomBytes(100_000);
  const tampered = Buffer.from(data);
  tampered[0] = tampered[0]! ^ 1; // the first byte differs, yet only the end can tell
  let reported: ArchiveMismatchError | undefined;
  const { out, error } = await run(chunksOf(tampered, 10_000), createVerifyingStream({ sha256: sha256(data), size: data.length }, { onMismatch: (e) => (reported = e) }));
  assert.instance(error, ArchiveMismatchError);
  assert.is((error as ArchiveMismatchError).mismatch, 'checksum');
  assert.is(reported, error);
  assert.is(out.length, 90_000);
});

test('a single-chunk archive that mismatches lets nothing through', async () => {
  const data = randomBytes(500);
  const { out, error } = await run([Buffer.from(randomBytes(500))], createVerifyingStream({ sha256: sha256(data), size: data.length }));
  assert.instance(error, ArchiveMismatchError);
  assert.is(out.length, 0);
});

test('content longer than recorded stops as soon as it overflows', async () => {
  const data = randomBytes(30_000);
  const { out, error } = await run([...chunksOf(data, 10_000), randomBytes(10_000), randomBytes(10_000)], createVerifyingStream({ sha256: sha256(data), size: data.length }));
  assert.instance(error, ArchiveMismatchError);
  assert.is((error as ArchiveMismatchError).mismatch, 'size');
  assert.ok(out.length < data.length);
});

test('content shorter than recorded is a size mismatch', async () => {
  const data = randomBytes(30_000);
  const { error } = await run(chunksOf(data.subarray(0, 20_000), 10_000), createVerifyingStream({ sha256: sha256(data), size: data.length }));
  assert.instance(error, ArchiveMismatchError);
  assert.is((error as ArchiveMismatchError).mismatch, 'size');
});

test('an empty archive verifies against the hash of nothing', async () => {
  const { out, error } = await run([], createVerifyingStream({ sha256: sha256(Buffer.alloc(0)), size: 0 }));
  assert.is(error, undefined);
  assert.is(out.length, 0);
});

test.run();
