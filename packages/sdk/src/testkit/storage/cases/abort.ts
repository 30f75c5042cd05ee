import * as assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { StorageBackend } from '../../../storage.ts';
import type { StorageCase } from '../case.ts';
import { chunked, collectBytes, MiB, pseudoRandomChunks, sha256Hex } from '../../data.ts';
import { describeError, expectCode, expectRejection, expectSuccess, fail, isAbortError, within } from '../../expect.ts';
import { assertInfo } from '../info.ts';

const ABORT_AFTER_BYTES = 4 * MiB;
/** A body keeps flowing this long after the abort, as a real upstream would. */
const FLOW_AFTER_ABORT_BYTES = 64 * MiB;

/**
 * Puts a body that aborts itself once `ABORT_AFTER_BYTES` were consumed and then either keeps
 * flowing or stalls; returns how long the put took to fail after the abort.
 */
async function abortedPut(backend: StorageBackend, key: string, mode: 'flowing' | 'stalled', deadlineMs: number): Promise<number> {
  const controller = new AbortController();
  let abortedAt = 0;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* body(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    for await (const chunk of pseudoRandomChunks(ABORT_AFTER_BYTES + FLOW_AFTER_ABORT_BYTES, { seed: 11, chunkBytes: 256 * 1024 })) {
      yield chunk;
      sent += chunk.byteLength;
      if (sent === ABORT_AFTER_BYTES) {
        // From the event loop, so the abort may land while the backend waits on its own I/O.
        setImmediate(() => {
          abortedAt = performance.now();
          controller.abort();
        });
        if (mode === 'stalled') await released; // an upstream that stops sending without closing
      }
      // Data arrives as I/O does, giving the event loop (and the abort) its turns.
      if (sent >= ABORT_AFTER_BYTES) await tick();
    }
  }
  try {
    const put = backend.put(key, body(), { signal: controller.signal });
    const what = `put aborted mid-stream (${mode} body)`;
    const err = await within(
      expectRejection(put, () => true, what, 'a rejection'),
      // Room to report a late rejection by how late it was, before calling it a hang.
      2 * deadlineMs + 1000,
      what,
    );
    if (abortedAt === 0) fail(`${what}: it failed before the abort, with ${describeError(err)}`);
    const tookMs = performance.now() - abortedAt;
    assert.ok(isAbortError(err, controller.signal), `${what}: expected an AbortError, got ${describeError(err)}`);
    assert.ok(tookMs <= deadlineMs, `${what}: rejected ${tookMs.toFixed(0)} ms after the abort (limit ${deadlineMs} ms)`);
    return tookMs;
  } finally {
    release();
  }
}

/** An aborted put fails promptly and leaves nothing visible, nor disturbs the previous object. */
export const abortPut: StorageCase = {
  id: 'abort-put',
  name: 'aborting a put rejects promptly and leaves nothing visible',
  async run({ backend, key, settings }) {
    const aborted = AbortSignal.abort();
    const early = key('pre-aborted');
    await expectRejection(backend.put(early, chunked(Buffer.from('x')), { signal: aborted }), (err) => isAbortError(err, aborted), 'put with an already aborted signal', 'an AbortError');
    await expectCode(backend.stat(early), 'not_found', 'stat after a put with an already aborted signal');

    for (const mode of ['flowing', 'stalled'] as const) {
      const fresh = key(`fresh-${mode}`);
      const ms = await abortedPut(backend, fresh, mode, settings.abortDeadlineMs);
      settings.log(`abort-put (${mode}): rejected ${ms.toFixed(1)} ms after the abort`);
      await expectCode(backend.stat(fresh), 'not_found', `stat after an aborted put (${mode} body)`);
      await expectCode(backend.get(fresh), 'not_found', `get after an aborted put (${mode} body)`);
    }

    const existing = key('existing');
    const old = Buffer.from('the old object, which an aborted put must not disturb');
    const oldDigest = { sha256: sha256Hex(old), size: old.byteLength };
    await backend.put(existing, chunked(old));
    await abortedPut(backend, existing, 'flowing', settings.abortDeadlineMs);
    const what = 'stat of an object an aborted put tried to replace';
    assertInfo(await expectSuccess(backend.stat(existing), what), existing, oldDigest, what);
    const got = await expectSuccess(backend.get(existing), 'get of an object an aborted put tried to replace');
    assert.ok((await collectBytes(got.body)).equals(old), 'an aborted put must leave the old object intact');
  },
};

/** Aborting a get makes its stream fail, without harming the object. */
export const abortGet: StorageCase = {
  id: 'abort-get',
  name: 'aborting a get makes its stream fail promptly',
  async run({ backend, key, settings }) {
    const k = key('object');
    const total = 16 * MiB;
    const put = await backend.put(k, pseudoRandomChunks(total, { seed: 5 }));

    const controller = new AbortController();
    const got = await backend.get(k, { signal: controller.signal });
    const what = 'reading a get whose signal was aborted after the first chunk';
    const err = await within(
      expectRejection(
        (async () => {
          let read = 0;
          for await (const chunk of got.body) {
            if (read === 0) controller.abort();
            read += chunk.byteLength;
          }
          return `all ${read} bytes`;
        })(),
        () => true,
        what,
        'the stream to fail',
      ),
      settings.abortDeadlineMs,
      what,
    );
    assert.ok(isAbortError(err, controller.signal), `${what}: expected an AbortError, got ${describeError(err)}`);

    // An already aborted signal: get rejects, or its stream fails before the end.
    const aborted = AbortSignal.abort();
    await within(
      expectRejection(
        (async () => {
          const g = await backend.get(k, { signal: aborted });
          let read = 0;
          for await (const chunk of g.body) read += chunk.byteLength;
          return `all ${read} bytes`;
        })(),
        (e) => isAbortError(e, aborted),
        'get with an already aborted signal',
        'an AbortError from get or its stream',
      ),
      settings.abortDeadlineMs,
      'get with an already aborted signal',
    );

    // The object is unharmed.
    const again = await backend.get(k);
    let size = 0;
    for await (const chunk of again.body) size += chunk.byteLength;
    assert.equal(size, total, 'the object must be intact after an aborted get');
    assert.equal(again.info.sha256, put.sha256, 'the object must be intact after an aborted get');
  },
};
