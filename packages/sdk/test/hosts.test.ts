/** hostAllowed: how a plugin reads a platform's host allowlist. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostAllowed } from '../src/index.ts';

const allowed = (url: string, list: string[]) => hostAllowed(new URL(url), list);

test('a bare name allows any port of exactly that host, case-insensitive', () => {
  assert.ok(allowed('https://MinIO.internal:9000/b', ['minio.internal']));
  assert.ok(allowed('http://minio.internal/b', [' Minio.Internal ']));
  assert.not.ok(allowed('https://minio.internal.evil.test/b', ['minio.internal']));
  assert.not.ok(allowed('https://xminio.internal/b', ['minio.internal']));
});

test('host:port allows that port only (the scheme default when the URL names none)', () => {
  assert.ok(allowed('https://s3.local:9000', ['s3.local:9000']));
  assert.not.ok(allowed('https://s3.local:9001', ['s3.local:9000']));
  assert.ok(allowed('https://s3.local', ['s3.local:443']));
  assert.ok(allowed('http://s3.local', ['s3.local:80']));
  assert.not.ok(allowed('http://s3.local', ['s3.local:443']));
});

test('*.suffix allows hosts below the suffix, not the suffix itself', () => {
  assert.ok(allowed('https://a.blob.example.com', ['*.example.com']));
  assert.not.ok(allowed('https://example.com', ['*.example.com']));
  assert.not.ok(allowed('https://evilexample.com', ['*.example.com']));
});

test('IPv6 literals match bracketed or not; a bare IPv6 entry is not read as host:port', () => {
  assert.ok(allowed('https://[::1]:9000', ['::1']));
  assert.ok(allowed('https://[::1]:9000', ['[::1]']));
  assert.not.ok(allowed('https://[::2]:1', ['::1']));
  assert.not.ok(allowed('https://a.test', []));
});

test.run();
