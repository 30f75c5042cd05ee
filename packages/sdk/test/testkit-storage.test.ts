/**
 * The storage conformance suite passes a correct backend and fails every flawed one: a
 * conformance kit that cannot fail would certify anything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MiB, storageConformanceCases, type StorageConformanceOptions } from '../src/testkit/index.ts';
import { MemoryStorage, type Flaw } from './memory-storage.ts';

const quick: Omit<StorageConformanceOptions, 'create'> = {
  raceObjectBytes: 2 * MiB,
  raceRounds: 2,
  statObjectBytes: 16 * MiB,
  bigObjectBytes: 128 * MiB,
  memoryGrowthLimitBytes: 32 * MiB,
};

async function caseOf(id: string, create: () => MemoryStorage, extra: Partial<StorageConformanceOptions> = {}) {
  const found = (await storageConformanceCases({ create, ...quick, ...extra })).find((c) => c.id === id);
  if (found === undefined) throw new Error(`no case ${id}`);
  return found;
}

async function failure(run: () => Promise<void>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    assert.instance(err, Error);
    return err as Error;
  }
  throw new assert.Assertion({ message: 'the case passed against a flawed backend', operator: 'fails', expects: 'failure', actual: 'pass' });
}

// A correct backend passes every case (but one: it keeps objects in memory, see below).
const correct = await storageConformanceCases({ create: () => new MemoryStorage({ presign: true }), ...quick });
for (const c of correct) {
  if (c.id !== 'big-object') test(`a correct in-memory backend passes: ${c.name}`, c.run);
}

test('the presign case is there exactly when the backend declares presign', async () => {
  const ids = (cases: { id: string }[]) => cases.map((c) => c.id);
  assert.ok(ids(correct).includes('presign'));
  const without = await storageConformanceCases({ create: () => new MemoryStorage({ presign: false }), ...quick });
  assert.not.ok(ids(without).includes('presign'));
  assert.equal(
    ids(without),
    ids(correct).filter((id) => id !== 'presign'),
  );
  assert.ok(correct.every((c) => c.name.startsWith('storage: ')));
});

const flaws: Array<[Flaw, string, RegExp]> = [
  ['wrong-checksum', 'round-trip', /sha256/],
  ['visible-while-writing', 'concurrent-writers', /do not match|neither the old object|info\.s/],
  ['visible-while-writing', 'checksum-mismatch', /not_found|intact|info\./],
  ['delete-then-write', 'concurrent-writers', /must stay visible/],
  ['delete-then-write', 'abort-put', /stat of an object an aborted put tried to replace/],
  ['plain-errors', 'not-found', /isOpenDepotError\(err, 'not_found'\)/],
  ['strict-delete', 'delete', /delete of an object already deleted: expected success/],
  ['lax-keys', 'bad-keys', /code 'input'/],
  ['ignores-sha256', 'checksum-mismatch', /wrong sha256 .* but it succeeded/],
  ['mismatch-as-input', 'checksum-mismatch', /code 'integrity'.*InputError/],
  ['lax-sha256', 'bad-put-options', /put with sha256 .*code 'input'.*but it succeeded/],
  ['lax-ranges', 'bad-ranges', /get with range .*code 'input'/],
  ['lax-keys', 'bad-keys', /put\("a\/\/b"\)/],
  ['ignores-put-abort', 'abort-put', /already aborted signal/],
  ['ignores-get-abort', 'abort-get', /expected the stream to fail/],
  ['ignores-range', 'range', /get with range/],
  ['stat-reads', 'stat', /seems to read the object/],
  ['bad-presign', 'presign', /presigned URL served/],
];
for (const [flaw, id, message] of flaws) {
  test(`the ${id} case fails against a backend with the flaw '${flaw}'`, async () => {
    const c = await caseOf(id, () => new MemoryStorage({ flaw, presign: true }));
    const err = await failure(c.run);
    assert.match(err.message, message);
  });
}

test('the big-object case fails against a backend that holds objects in memory', async () => {
  const c = await caseOf('big-object', () => new MemoryStorage());
  const err = await failure(c.run);
  assert.match(err.message, /put held on to data/);
});

test('the abort-put case fails against a put that only notices the abort between chunks', async () => {
  // Checks the signal after every chunk but cannot interrupt a stalled body.
  class BetweenChunks extends MemoryStorage {
    override async put(key: string, body: AsyncIterable<Uint8Array>, options: { signal?: AbortSignal } = {}) {
      const { signal, ...rest } = options;
      async function* checked() {
        for await (const chunk of body) {
          signal?.throwIfAborted();
          yield chunk;
        }
        signal?.throwIfAborted();
      }
      signal?.throwIfAborted();
      return super.put(key, checked(), rest);
    }
  }
  const c = await caseOf('abort-put', () => new BetweenChunks(), { abortDeadlineMs: 300 });
  const err = await failure(c.run);
  assert.match(err.message, /stalled body.*did not settle/);
});

test('every case closes its backend and runs the cleanup, also when it fails', async () => {
  let created = 0;
  let closed = 0;
  let cleanups = 0;
  class Counted extends MemoryStorage {
    override async close() {
      closed++;
      await super.close();
    }
  }
  const cases = await storageConformanceCases({
    create: () => {
      created++;
      return new Counted({ flaw: 'lax-keys' });
    },
    cleanup: () => void cleanups++,
    ...quick,
  });
  assert.equal([created, closed, cleanups], [1, 1, 1], 'the capability probe');
  await cases.find((c) => c.id === 'capabilities')!.run();
  await failure(cases.find((c) => c.id === 'bad-keys')!.run);
  assert.equal([created, closed, cleanups], [3, 3, 3]);
});

test('nonsensical options are refused', async () => {
  for (const bad of [{ bigObjectBytes: 0 }, { raceRounds: -1 }, { abortDeadlineMs: 1.5 }, { keyPrefix: '/abs/' }]) {
    try {
      await storageConformanceCases({ create: () => new MemoryStorage(), ...bad });
    } catch (err) {
      assert.instance(err, RangeError);
      continue;
    }
    assert.unreachable(`accepted ${JSON.stringify(bad)}`);
  }
});

test.run();
