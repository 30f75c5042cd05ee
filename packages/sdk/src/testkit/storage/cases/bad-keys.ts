import type { StorageCase } from '../case.ts';
import { chunked } from '../../data.ts';
import { expectCode } from '../../expect.ts';

/**
 * Keys the contract forbids (see `checkKey`): empty, absolute, empty/`.`/`..` segments,
 * backslashes, control characters, segments ending in `.` or starting with `.opendepot` in any
 * case, and keys over 1024 bytes.
 */
export const BAD_KEYS: readonly string[] = [
  '',
  '/abs',
  '/etc/passwd',
  'a/../b',
  '..',
  '../escape',
  'a/..',
  'a/b/../../..',
  'a//b',
  'a/',
  './a',
  'a/./b',
  'a\\b',
  'a\u0000b',
  'a\nb',
  'a\u007fb',
  'a./b',
  'a/b.',
  '.opendepot-uploads/x',
  '.OpenDepot-Uploads/x',
  'a/.opendepot/b',
  'x'.repeat(1025),
];

/** Every operation refuses a forbidden key with an input error, before touching storage. */
export const badKeys: StorageCase = {
  id: 'bad-keys',
  name: 'keys the contract forbids (empty, absolute, "..", control characters, reserved names, too long) are refused with an input error',
  async run({ backend }) {
    for (const bad of BAD_KEYS) {
      const k = JSON.stringify(bad.length > 64 ? `${bad.slice(0, 16)}...(${bad.length} characters)` : bad);
      await expectCode(backend.put(bad, chunked(Buffer.from('x'))), 'input', `put(${k})`);
      await expectCode(backend.get(bad), 'input', `get(${k})`);
      await expectCode(backend.stat(bad), 'input', `stat(${k})`);
      await expectCode(backend.delete(bad), 'input', `delete(${k})`);
    }
  },
};
