import type { GetOptions } from '../../../storage.ts';
import type { StorageCase } from '../case.ts';
import { chunked } from '../../data.ts';
import { expectCode } from '../../expect.ts';

/** Ranges the contract refuses (see `checkRange`): a negative or fractional start, an end before the start. */
export const BAD_RANGES: readonly NonNullable<GetOptions['range']>[] = [{ start: -1 }, { start: 1.5 }, { start: Number.NaN }, { start: 5, end: 4 }, { start: 0, end: -1 }, { start: 0, end: 2.5 }];

/** A malformed range is an input error, whether or not the object exists. */
export const badRanges: StorageCase = {
  id: 'bad-ranges',
  name: 'get with a malformed range is refused with an input error',
  async run({ backend, key }) {
    const k = key('ranged');
    await backend.put(k, chunked(Buffer.from('0123456789')));
    for (const range of BAD_RANGES) {
      await expectCode(backend.get(k, { range }), 'input', `get with range ${JSON.stringify(range)}`);
      await expectCode(backend.get(key('missing'), { range }), 'input', `get of a missing key with range ${JSON.stringify(range)}`);
    }
  },
};
