import type { StorageCase } from '../case.ts';
import { chunked } from '../../data.ts';
import { expectCode } from '../../expect.ts';

/** Keys the contract forbids: empty, absolute, or with `..` segments. */
export const BAD_KEYS: readonly string[] = ['', '/abs', '/etc/passwd', 'a/../b', '..', '../escape', 'a/..', 'a/b/../../..'];

/** Every operation refuses a forbidden key with an input error, before touching storage. */
export const badKeys: StorageCase = {
  id: 'bad-keys',
  name: "keys that are empty, absolute or contain '..' are refused with an input error",
  async run({ backend }) {
    for (const bad of BAD_KEYS) {
      const k = JSON.stringify(bad);
      await expectCode(backend.put(bad, chunked(Buffer.from('x'))), 'input', `put(${k})`);
      await expectCode(backend.get(bad), 'input', `get(${k})`);
      await expectCode(backend.stat(bad), 'input', `stat(${k})`);
      await expectCode(backend.delete(bad), 'input', `delete(${k})`);
    }
  },
};
