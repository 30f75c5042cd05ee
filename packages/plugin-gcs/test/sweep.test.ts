/** The start-up sweep against fake-gcs-server: upload objects a killed put left, under the prefix only. */
import { Storage } from '@google-cloud/storage';
import { startFakeGcs } from '@opendepot/testbed';
import { chunked } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GcsStorage, UPLOADS_FOLDER } from '../src/index.ts';

const BUCKET = 'opendepot-sweep-test';
const gcs = await startFakeGcs({ buckets: [BUCKET] });
test.after(() => gcs.stop());

test('sweepTemporaries deletes upload objects never copied into place, under its prefix only, once old enough', async () => {
  const s = new GcsStorage({ bucket: BUCKET, endpoint: gcs.url, prefix: 'od' });
  await s.put('kept.zip', chunked(Buffer.from('stored')));
  // What a put killed between its upload and its copy leaves, here and under another prefix.
  const bucket = new Storage({ apiEndpoint: gcs.url, projectId: 'test' }).bucket(BUCKET);
  await bucket.file(`od/${UPLOADS_FOLDER}/killed-mid-put`).save('partial');
  await bucket.file(`elsewhere/${UPLOADS_FOLDER}/not-ours`).save('partial');
  assert.equal(await s.sweepTemporaries({ olderThanMs: 60 * 60 * 1000 }), { removed: [] }, 'too fresh for an hour of grace');
  assert.equal(await s.sweepTemporaries({ olderThanMs: 0 }), { removed: [`od/${UPLOADS_FOLDER}/killed-mid-put`] });
  const [left] = await bucket.getFiles();
  assert.equal(left.map((f) => f.name).sort(), [`elsewhere/${UPLOADS_FOLDER}/not-ours`, 'od/kept.zip']);
  assert.is((await s.stat('kept.zip')).size, 6);
  await s.close?.();
});

test.run();
