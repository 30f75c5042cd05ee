/**
 * How fetchAndStore reads a storage put's failure: only an integrity error (the bytes do not hash
 * to the expected checksum) means "the upstream differs"; any other error stays what it is.
 * Against the real filesystem plugin, whose guard is the SDK's.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStorage } from '@opendepot/plugin-fs';
import { isOpenDepotError, UnavailableError, type ArchiveSource, type StorageBackend } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fetchAndStore } from '../src/controllers/archive-sync.ts';

const KEY = 'modules/ns/vpc/aws/1.0.0/vpc-aws-1.0.0.zip';
const subject = { kind: 'module', name: 'vpc', provider: 'aws' } as never;
const archive = Buffer.from('the upstream archive of 1.0.0');
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** An upstream that serves `bytes`. */
function upstream(bytes: Buffer): ArchiveSource {
  return {
    listVersions: async () => [],
    fetch: async () => ({
      filename: 'vpc.zip',
      size: bytes.byteLength,
      body: (async function* () {
        yield bytes;
      })(),
    }),
  };
}

async function withStorage(body: (storage: FilesystemStorage) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-archive-sync-'));
  try {
    await body(await new FilesystemStorage({ path: dir }).init());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new assert.Assertion({ message: 'expected a rejection', operator: 'rejects', expects: 'rejection', actual: 'success' });
}

test('bytes that do not hash to the expected checksum: upstream-differs, nothing stored', () =>
  withStorage(async (storage) => {
    const expected = sha256(Buffer.from('the archive recorded earlier'));
    const result = await fetchAndStore(upstream(archive), subject, '1.0.0', storage, KEY, { format: 'zip', expectedSha256: expected });
    assert.is(result.state, 'upstream-differs');
    assert.match((result as { message: string }).message, new RegExp(`does not match the expected SHA-256 ${expected}`));
    assert.ok(isOpenDepotError(await rejection(storage.stat(KEY)), 'not_found'));
  }));

test('a key the storage refuses is an input error, not a changed upstream', () =>
  withStorage(async (storage) => {
    const err = await rejection(fetchAndStore(upstream(archive), subject, '1.0.0', storage, '../outside.zip', { format: 'zip', expectedSha256: sha256(archive) }));
    assert.ok(isOpenDepotError(err, 'input'), String(err));
  }));

test('a storage that is down stays unavailable (retried), not a changed upstream', () =>
  withStorage(async (fs) => {
    const down: StorageBackend = {
      ...fs,
      capabilities: fs.capabilities,
      put: async () => {
        throw new UnavailableError('the store is down');
      },
      get: fs.get.bind(fs),
      stat: fs.stat.bind(fs),
      delete: fs.delete.bind(fs),
    };
    const err = await rejection(fetchAndStore(upstream(archive), subject, '1.0.0', down, KEY, { format: 'zip', expectedSha256: sha256(Buffer.from('other')) }));
    assert.ok(isOpenDepotError(err, 'unavailable'), String(err));
  }));

test('bytes that match are stored', () =>
  withStorage(async (storage) => {
    const result = await fetchAndStore(upstream(archive), subject, '1.0.0', storage, KEY, { format: 'zip', expectedSha256: sha256(archive).toUpperCase() });
    assert.is(result.state, 'stored');
    assert.is((await storage.stat(KEY)).sha256, sha256(archive));
  }));

test('a backend that reports no SHA-256 for what it stored: retried (unavailable), never a Version without a checksum', () =>
  withStorage(async (storage) => {
    const forgetful = new Proxy(storage, {
      get(target, property) {
        if (property === 'put') return async (...args: Parameters<StorageBackend['put']>) => ({ ...(await target.put(...args)), sha256: undefined });
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as StorageBackend;
    const err = await rejection(fetchAndStore(upstream(archive), subject, '1.0.0', forgetful, KEY, { format: 'zip' }));
    assert.ok(isOpenDepotError(err, 'unavailable'), String(err));
    assert.match(String(err), /reported no SHA-256/);
  }));

test.run();
