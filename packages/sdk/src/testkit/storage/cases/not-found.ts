import type { StorageCase } from '../case.ts';
import { chunked } from '../../data.ts';
import { expectCode } from '../../expect.ts';

/** Missing keys are reported with the contract's `not_found` code, wherever they would be. */
export const notFound: StorageCase = {
  id: 'not-found',
  name: 'get and stat of a missing key reject with not_found',
  async run({ backend, key }) {
    const sibling = key('present/object');
    await backend.put(sibling, chunked(Buffer.from('here')));
    for (const missing of [key('never-written'), key('present/other'), key('missing/dir/deep/object'), key('present/object/below-an-object')]) {
      await expectCode(backend.get(missing), 'not_found', `get(${JSON.stringify(missing)})`);
      await expectCode(backend.stat(missing), 'not_found', `stat(${JSON.stringify(missing)})`);
    }
  },
};
