/** The verifying pass-through on its own: what it lets through, and when. */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveMismatchError, ContentTags, createVerifyingStream } from '../src/index.ts';

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

/** One download through a verifier that keeps tags in `tags`: what came out, how it ended, and how it was verified. */
async function download(tags: ContentTags, storageKey: string, stored: Buffer, recorded: Buffer) {
  let by: string | undefined;
  let reported: ArchiveMismatchError | undefined;
  const verifier = createVerifyingStream({ sha256: sha256(recorded), size: recorded.length }, { onVerified: (how) => (by = how), onMismatch: (e) => (reported = e) }, { tags, storageKey });
  const result = await run(chunksOf(stored, 10_000), verifier);
  assert.is(reported, result.error);
  return { ...result, by };
}

test('with tags: the first download is checked by SHA-256, later ones by the keyed tag of that verification', async () => {
  const tags = new ContentTags();
  const data = randomBytes(100_003);
  const first = await download(tags, 'ns/a.zip', data, data);
  assert.is(first.error, undefined);
  assert.is(first.by, 'sha256');
  assert.is(tags.size, 1);
  for (let i = 0; i < 3; i++) {
    const again = await download(tags, 'ns/a.zip', data, data);
    assert.is(again.error, undefined);
    assert.is(again.by, 'tag');
    assert.ok(again.out.equals(data));
  }
  // The same content under another key, or recorded with another checksum, is not the same object.
  assert.is((await download(tags, 'ns/b.zip', data, data)).by, 'sha256');
});

test('with tags: a byte changed after the first verification is caught by the tag, the last chunk withheld, then reported by SHA-256', async () => {
  const tags = new ContentTags();
  const data = randomBytes(100_000);
  assert.is((await download(tags, 'ns/a.zip', data, data)).by, 'sha256');
  for (const at of [0, 55_555, 99_999]) {
    const tampered = Buffer.from(data);
    tampered[at] = tampered[at]! ^ 1;
    const caught = await download(tags, 'ns/a.zip', tampered, data);
    assert.instance(caught.error, ArchiveMismatchError);
    assert.is((caught.error as ArchiveMismatchError).mismatch, 'checksum');
    assert.match((caught.error as ArchiveMismatchError).actual, 'keyed tag');
    assert.is(caught.out.length, 90_000);
    assert.is(tags.size, 0, 'a tag that no longer matches is forgotten');
    // Forgotten: the next download of the changed bytes hashes them and names their SHA-256.
    const next = await download(tags, 'ns/a.zip', tampered, data);
    assert.is((next.error as ArchiveMismatchError).actual, sha256(tampered));
    assert.is(tags.size, 0, 'content that failed its SHA-256 gets no tag');
    // The original content verifies again (by SHA-256, then by tag).
    assert.is((await download(tags, 'ns/a.zip', data, data)).by, 'sha256');
  }
  // Same length, every byte different; and a tag never passes a content of another size.
  assert.instance((await download(tags, 'ns/a.zip', randomBytes(100_000), data)).error, ArchiveMismatchError);
  assert.is((await download(tags, 'ns/a.zip', data, data)).by, 'sha256');
  const longer = await download(tags, 'ns/a.zip', Buffer.concat([data, Buffer.from([1])]), data);
  assert.is((longer.error as ArchiveMismatchError).mismatch, 'size');
});

test('tags are keyed per process and bounded: another process (key) cannot use them, and the oldest go first', async () => {
  const data = randomBytes(20_000);
  const one = new ContentTags();
  const other = new ContentTags();
  const tagOf = (tags: ContentTags, iv: Buffer) => {
    const t = tags.start(iv);
    t.update(data);
    return t.finish().tag;
  };
  const iv = randomBytes(12);
  assert.not.ok(tagOf(one, iv).equals(tagOf(other, iv)), 'two processes compute different tags of the same bytes');
  const small = new ContentTags({ maxEntries: 2 });
  for (const key of ['a', 'b', 'c']) await download(small, key, data, data);
  assert.is(small.size, 2);
  assert.is((await download(small, 'a', data, data)).by, 'sha256', 'the least recently used tag was dropped');
  assert.is((await download(small, 'c', data, data)).by, 'tag');
});

test.run();
