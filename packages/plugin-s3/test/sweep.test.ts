/**
 * The start-up sweep against a real MinIO: multipart uploads a killed put left open, and uploads
 * never copied into place, are removed under the prefix; other prefixes, fresh uploads and
 * stored objects stay.
 */
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { UPLOADS_FOLDER } from '@opendepot/sdk';
import { MiB } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { S3Storage } from '../src/index.ts';
import { minioConfig, startMinio } from './support.ts';

const BUCKET = 'sweep-tests';
const minio = await startMinio({ buckets: [BUCKET] });
test.after(() => minio.stop());

const storage = (prefix: string, now = Date.now) =>
  new S3Storage(minioConfig(minio, BUCKET, prefix), { credentials: async () => ({ accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey }), now });

test('sweepTemporaries aborts open multipart uploads and deletes stray uploads under its prefix only, once old enough', async () => {
  const s = storage('od');
  const other = storage('elsewhere');
  await s.put(
    'kept.zip',
    (async function* () {
      yield Buffer.from('stored');
    })(),
  );
  // What a put killed mid-stream leaves: an open multipart upload with a part, and an upload never copied into place.
  const { UploadId } = await s.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'od/modules/ns/big.zip' }));
  await s.client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'od/modules/ns/big.zip', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1) }));
  await s.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `od/${UPLOADS_FOLDER}/1c6f4d2f-dead-4bee-8f00-000000000000`, Body: 'partial' }));
  // Earlier releases kept them under .uploads/, named by a UUID; a key of that folder is an object like any other now.
  await s.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'od/.uploads/0b5e3c1e-dead-4bee-8f00-000000000000', Body: 'partial' }));
  await s.put(
    '.uploads/notes.txt',
    (async function* () {
      yield Buffer.from('a key');
    })(),
  );
  const theirs = await s.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'elsewhere/x.zip' }));

  // Too fresh for an hour of grace: a live writer might own them.
  assert.equal(await s.sweepTemporaries({ olderThanMs: 60 * 60 * 1000 }), { removed: [] });
  // An hour later (the clock moved on), they are leftovers.
  const later = storage('od', () => Date.now() + 2 * 60 * 60 * 1000);
  const { removed } = await later.sweepTemporaries({ olderThanMs: 60 * 60 * 1000 });
  assert.equal(removed.sort(), ['multipart upload of od/modules/ns/big.zip', `od/${UPLOADS_FOLDER}/1c6f4d2f-dead-4bee-8f00-000000000000`, 'od/.uploads/0b5e3c1e-dead-4bee-8f00-000000000000'].sort());
  assert.equal(await minio.listMultipartUploads(BUCKET), ['elsewhere/x.zip'], 'another prefix is not ours');
  assert.equal((await minio.listObjects(BUCKET, 'od/')).sort(), ['od/.uploads/notes.txt', 'od/kept.zip']);
  assert.is((await s.stat('kept.zip')).size, 6);
  await other.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'elsewhere/x.zip', UploadId: theirs.UploadId }));
  for (const b of [s, other, later]) await b.close?.();
});

test.run();
