/**
 * Fuzz run (fast-check, fixed seed) of the archive readers behind repacking (upstream archives)
 * and unpacking (stored archives, for scanners): random bytes and mutated valid zip, tar and
 * tar.gz archives either read or fail with a typed InputError, never another exception and never
 * a hang; and nothing is left in the temp directory.
 */
import { Buffer } from 'node:buffer';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOpenDepotError } from '@opendepot/sdk';
import { repackArchive, unpackArchive, type InputFormat } from '../src/index.ts';
import { collect, tarOf, zipOf, type TestEntry } from '@opendepot/testbed/archive-helpers';

// Fixed, so runs repeat; OPENDEPOT_FUZZ_SEED explores others (a finding becomes a regular test).
const SEED = Number(process.env.OPENDEPOT_FUZZ_SEED ?? 20261202);
/** Far longer than reading a few KiB takes on a loaded machine; reaching it is a hang. */
const HANG_MS = 10_000;
/** Small limits, so that limit paths are hit as well. */
const LIMITS = { maxInputBytes: 256 * 1024, maxTotalBytes: 512 * 1024, maxEntryBytes: 128 * 1024, maxEntries: 64 };

let scratch: string;
test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'opendepot-archive-fuzz-'));
});
test.after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs `property` with the fixed seed and prints the count (for the fuzz note). */
async function fuzz(name: string, numRuns: number, property: fc.IAsyncProperty<never>): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property, { seed: SEED, numRuns });
  console.log(`fuzz ${name}: seed ${SEED}, ${details.numRuns} runs, ${details.numSkips} skipped, ${Math.round(performance.now() - started)} ms`);
  if (details.failed) assert.unreachable(`${fc.defaultReportMessage(details) ?? `${name} failed`}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`);
}

/** `run` must settle within {@link HANG_MS}, and fail only with an InputError. */
async function typedOnly(what: string, run: (signal: AbortSignal) => Promise<unknown>): Promise<'ok' | 'input-error'> {
  const guard = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      guard.abort();
      reject(new Error(`${what}: no answer within ${HANG_MS} ms`));
    }, HANG_MS);
  });
  try {
    await Promise.race([run(guard.signal), hang]);
    return 'ok';
  } catch (err) {
    if (isOpenDepotError(err, 'input')) return 'input-error';
    throw new Error(`${what}: untyped ${(err as Error)?.name} ${(err as { code?: string })?.code ?? ''}: ${(err as Error)?.message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

// Valid trees: a few files and directories with plain names, under one top-level directory.
const segment = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const entry = fc.record({
  path: fc.array(segment, { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom('file', 'file', 'file', 'directory', 'symlink'),
  content: fc.uint8Array({ maxLength: 600 }),
  link: fc.array(fc.constantFrom('..', 'a', 'b', 'main.tf'), { minLength: 1, maxLength: 3 }),
});
const treeOf = (entries: (typeof entry extends fc.Arbitrary<infer T> ? T : never)[]): TestEntry[] => [
  { name: 'top/', type: 'directory' },
  ...entries.map((e): TestEntry => {
    const name = `top/${e.path.join('/')}`;
    if (e.kind === 'directory') return { name: `${name}/`, type: 'directory' };
    if (e.kind === 'symlink') return { name, type: 'symlink', linkname: e.link.join('/') };
    return { name, content: Buffer.from(e.content) };
  }),
];

type Format = InputFormat;
const FORMATS: Format[] = ['zip', 'tar', 'tar.gz'];
async function pack(format: Format, entries: TestEntry[]): Promise<Buffer> {
  if (format === 'zip') return zipOf(entries);
  const plain = await tarOf(entries);
  return format === 'tar' ? plain : gzipSync(plain);
}

// Mutations of a valid archive: flipped and overwritten bytes, truncation, spliced and repeated spans.
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 1, max: 20 }) }),
  // Numbers in headers (sizes, counts, offsets) set to extremes.
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37)),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;
function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.op === 'flip') out[at] = out[at]! ^ (1 << m.bit);
    else if (m.op === 'set') out.set(m.bytes.subarray(0, out.length - at), at);
    else if (m.op === 'truncate') out = out.subarray(0, at);
    else if (m.op === 'splice') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), ...Array<Buffer>(m.times).fill(out.subarray(at, at + m.length)), out.subarray(at)]);
  }
  return out;
}

/** Repacks and unpacks `bytes`; both must succeed or fail typed, and leave no temporaries. */
async function readBoth(format: Format, bytes: Buffer, strip: boolean): Promise<void> {
  const dir = await mkdtemp(join(scratch, 'run-'));
  try {
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const repacked = await typedOnly(`repack ${format}`, async (signal) => {
      const out = await repackArchive(Readable.from([bytes]), { from: format, to: 'zip', stripTopLevelDir: strip, limits: LIMITS, tmpDir, signal });
      await collect(out.body);
    });
    const target = join(dir, 'unpacked');
    await mkdir(target);
    const unpacked = await typedOnly(`unpack ${format}`, (signal) => unpackArchive(Readable.from([bytes]), { from: format, dir: target, limits: LIMITS, signal }));
    // Unpacking does not strip, so an archive with several top-level entries may unpack yet not repack; never the reverse.
    if (repacked === 'ok' && !strip) assert.is(unpacked, 'ok', `${format}: repacked but not unpacked`);
    assert.equal(await readdir(tmpDir), [], 'repacking left temporaries');
    assert.equal((await readdir(dir)).sort(), ['tmp', 'unpacked'], 'unpacking left its spool');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('random bytes in every format: read, or an InputError; never another error or a hang', async () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 4096 }),
    // Random bytes behind a real magic number, so the parsers get past their first check.
    fc
      .tuple(fc.constantFrom(Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1'), Buffer.from([0x1f, 0x8b, 8, 0])), fc.uint8Array({ maxLength: 2048 }))
      .map(([magic, rest]) => Buffer.concat([magic, rest])),
  );
  await fuzz(
    'archive readers(random bytes)',
    300,
    fc.asyncProperty(fc.constantFrom(...FORMATS), bytes, fc.boolean(), async (format, data, strip) => readBoth(format, Buffer.from(data), strip)) as never,
  );
});

test('mutated valid archives in every format: read, or an InputError; never another error or a hang', async () => {
  await fuzz(
    'archive readers(mutated archives)',
    800,
    fc.asyncProperty(fc.constantFrom(...FORMATS), fc.array(entry, { maxLength: 6 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), async (format, entries, mutations, strip) => {
      const valid = await pack(format, treeOf(entries));
      await readBoth(format, mutate(valid, mutations), strip);
    }) as never,
  );
});

test.run();
