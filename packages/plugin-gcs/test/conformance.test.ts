/**
 * The GCS plugin passes every case of the storage conformance suite against fake-gcs-server,
 * created through the plugin as the host does (config validated against its schema, the key
 * read through `readSecret`).
 */
import * as assert from 'node:assert/strict';
import { storageConformanceCases } from '@opendepot/sdk/testkit';
import { startFakeGcs } from '@opendepot/testbed';
import { test } from 'uvu';
import plugin, { UPLOADS_FOLDER, type GcsStorageConfig } from '../src/index.ts';
import { fakeServiceAccountKey, pluginContext, recordingLogger } from './support.ts';

const BUCKET = 'opendepot-conformance';
const PREFIX = 'registry/';
const gcs = await startFakeGcs({ buckets: [BUCKET] });
const secrets = { 'gcs-key': { 'credentials.json': JSON.stringify(fakeServiceAccountKey()) } };
const config: GcsStorageConfig = { bucket: BUCKET, prefix: PREFIX, endpoint: gcs.url, credentialsSecretRef: { name: 'gcs-key' } };
const warnings: string[] = [];

const cases = await storageConformanceCases({
  create: () => plugin.create(config, pluginContext({ secrets, logger: recordingLogger(warnings) })),
  // Runs after the backend is closed (which waits for its clean-ups): nothing may be left of
  // any upload, and nothing may lie outside the prefix.
  async cleanup() {
    const names = await gcs.listObjects(BUCKET);
    const outside = names.filter((n) => !n.startsWith(PREFIX));
    const leftovers = names.filter((n) => n.startsWith(`${PREFIX}${UPLOADS_FOLDER}/`));
    await gcs.emptyBucket(BUCKET);
    assert.deepEqual(outside, [], 'objects were written outside the prefix');
    assert.deepEqual(leftovers, [], 'temporary upload objects were left behind');
    assert.deepEqual(warnings.splice(0), [], 'the plugin logged warnings');
  },
  log: (message) => console.log(`    ${message}`),
});
assert.ok(
  cases.some((c) => c.id === 'presign'),
  'the gcs plugin declares presign, so the presign case must run',
);
for (const c of cases) test(c.name, c.run);

test.after(() => gcs.stop());
test.run();
