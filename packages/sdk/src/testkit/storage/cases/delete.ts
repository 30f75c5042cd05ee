import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { chunked, collectBytes } from '../../data.ts';
import { expectCode, expectSuccess } from '../../expect.ts';

/** Deleting removes exactly one object, and deleting what is gone succeeds. */
export const idempotentDelete: StorageCase = {
  id: 'delete',
  name: 'delete removes the object and succeeds when it is already gone',
  async run({ backend, key }) {
    const k = key('dir/doomed');
    const neighbour = key('dir/neighbour');
    await backend.put(k, chunked(Buffer.from('doomed')));
    await backend.put(neighbour, chunked(Buffer.from('neighbour')));

    await expectSuccess(backend.delete(k), 'delete of an existing object');
    await expectCode(backend.stat(k), 'not_found', 'stat after delete');
    await expectCode(backend.get(k), 'not_found', 'get after delete');
    await expectSuccess(backend.delete(k), 'delete of an object already deleted');
    await expectSuccess(backend.delete(key('never-written')), 'delete of a key never written');
    await expectSuccess(backend.delete(key('missing/dir/object')), 'delete of a key under a missing directory');

    assert.ok((await collectBytes((await backend.get(neighbour)).body)).equals(Buffer.from('neighbour')), 'delete must not touch other keys');

    // The key can be used again.
    await backend.put(k, chunked(Buffer.from('reborn')));
    assert.ok((await collectBytes((await backend.get(k)).body)).equals(Buffer.from('reborn')), 'a deleted key can be written again');
  },
};
