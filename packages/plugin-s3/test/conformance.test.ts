/**
 * The S3 plugin passes every case of the storage conformance suite against a real MinIO,
 * created through the plugin as the host does, with credentials read from a Secret. After each
 * case nothing may be left behind: no upload waiting under `.opendepot-uploads/`, no open multipart upload.
 */
import * as assert from 'node:assert/strict';
import { UPLOADS_FOLDER } from '@opendepot/sdk';
import { storageConformanceCases } from '@opendepot/sdk/testkit';
import { test } from 'uvu';
import plugin from '../src/index.ts';
import { credentialSecrets, minioConfig, pluginContext, startMinio } from './support.ts';

const BUCKET = 'conformance';
const PREFIX = 'opendepot/';
const minio = await startMinio({ buckets: [BUCKET] });
const config = minioConfig(minio, BUCKET, PREFIX);
const secrets = credentialSecrets(minio);

const cases = await storageConformanceCases({
  create: () => plugin.create(config, pluginContext({ secrets })),
  cleanup: async () => {
    assert.deepEqual(await minio.listObjects(BUCKET, `${PREFIX}${UPLOADS_FOLDER}/`), [], `uploads left under ${UPLOADS_FOLDER}/`);
    assert.deepEqual(await minio.listMultipartUploads(BUCKET), [], 'multipart uploads left open');
    const stray = (await minio.listObjects(BUCKET)).filter((k) => !k.startsWith(PREFIX));
    assert.deepEqual(stray, [], 'objects outside the prefix');
  },
  log: (message) => console.log(`    ${message}`),
});
for (const c of cases) test(c.name, c.run);

test.after(() => minio.stop());
test.run();
