import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';
import { MiB, pseudoRandomBytes, pseudoRandomChunks } from '../../data.ts';

const TTL_SECONDS = 300;
const CLOCK_SLACK_MS = 60_000;

/** A presigned URL downloads the object without credentials, and says when it expires. */
export const presign: StorageCase = {
  id: 'presign',
  name: 'presign returns a URL that downloads the object',
  appliesTo: (capabilities) => capabilities.presign,
  async run({ backend, key, settings }) {
    assert.equal(typeof backend.presign, 'function', 'capabilities.presign is true, so presign must be a method');
    const k = key('presigned v1.0.0+x.zip');
    const size = MiB + 7;
    const bytes = await pseudoRandomBytes(size, { seed: 13 });
    await backend.put(k, pseudoRandomChunks(size, { seed: 13 }));

    const before = Date.now();
    const signed = await backend.presign!(k, { ttlSeconds: TTL_SECONDS, filename: 'module.zip' });
    assert.equal(typeof signed.url, 'string', 'presign must return a url string');
    assert.doesNotThrow(() => new URL(signed.url), `presign returned an unparseable URL: ${signed.url}`);
    assert.ok(signed.expiresAt instanceof Date && !Number.isNaN(signed.expiresAt.getTime()), 'presign must return expiresAt as a valid Date');
    const expires = signed.expiresAt.getTime();
    assert.ok(expires > before, `expiresAt ${signed.expiresAt.toISOString()} is not in the future`);
    assert.ok(expires <= Date.now() + TTL_SECONDS * 1000 + CLOCK_SLACK_MS, `expiresAt ${signed.expiresAt.toISOString()} is later than the ${TTL_SECONDS} s asked for`);

    const response = await settings.fetch(signed.url);
    assert.equal(response.status, 200, `fetching the presigned URL answered ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    assert.ok(body.equals(bytes), `the presigned URL served ${body.byteLength} bytes that differ from the ${size} put`);
  },
};
