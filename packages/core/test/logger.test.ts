/** JSON logs: shape, levels, child fields, and no secret ever written. */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError, UnavailableError } from '@opendepot/sdk';
import { isSecretKey, redact, redactString, REDACTED } from '../src/logging/redact.ts';
import { captureLogger } from './helpers/capture-logger.ts';

test('one JSON object per line with level label, ISO time, name, message and fields', () => {
  const { logger, lines } = captureLogger('info');
  logger.info('listening', { port: 8080 });
  const [line] = lines();
  assert.is(line?.level, 'info');
  assert.is(line?.name, 'test');
  assert.is(line?.msg, 'listening');
  assert.is(line?.port, 8080);
  assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('levels filter, and child loggers add their fields to every line', () => {
  const { logger, lines } = captureLogger('warn');
  assert.is(logger.level, 'warn');
  assert.is(logger.isLevelEnabled('debug'), false);
  const child = logger.child({ plugin: 's3' });
  child.info('hidden');
  child.warn('slow', { ms: 900 });
  child.child({ key: 'a/b' }).error('failed');
  assert.equal(
    lines().map((l) => [l.level, l.msg, l.plugin, l.ms, l.key]),
    [
      ['warn', 'slow', 's3', 900, undefined],
      ['error', 'failed', 's3', undefined, 'a/b'],
    ],
  );
  const silent = captureLogger('silent');
  silent.logger.error('nothing');
  assert.equal(silent.lines(), []);
});

test('secret-looking fields are redacted at any depth, in fields and child bindings', () => {
  const { logger, raw, lines } = captureLogger();
  const secrets = ['s3cr3t-password', 'ghp_abcdefghijklmnopqrstuvwxyz012345', 'tok-123456789', 'PRIVATEKEYDATA', 'AKIASECRETKEY', 'Bearer-token-value-1', 'cookie-value-1', 'conn-string-key'];
  logger.child({ credentials: { user: 'u', password: secrets[0] } }).info('hello', {
    github: { token: secrets[1] },
    headers: { Authorization: `Bearer ${secrets[5]}`, cookie: secrets[6] },
    list: [{ apiKey: secrets[2] }, { privateKey: secrets[3] }],
    aws: { accessKeyId: 'AKIAVISIBLE', secretAccessKey: secrets[4] },
    azure: { connectionString: `AccountName=a;AccountKey=${secrets[7]}` },
    credentialsSecretRef: { name: 'my-secret' },
    passwordFile: '/etc/pass',
  });
  for (const secret of secrets) assert.not.ok(raw().includes(secret), `${secret} was logged`);
  const [line] = lines();
  assert.is((line?.github as Record<string, unknown> | undefined)?.token, REDACTED);
  assert.equal(line?.credentials, REDACTED, 'a secret-named object is redacted whole');
  assert.equal(line?.credentialsSecretRef, { name: 'my-secret' }, 'references to secrets are kept: they are what one debugs');
  assert.is(line?.passwordFile, '/etc/pass');
  assert.is((line?.aws as Record<string, unknown> | undefined)?.accessKeyId, 'AKIAVISIBLE');
});

test('credentials inside strings are scrubbed, in messages and fields', () => {
  const { logger, raw } = captureLogger();
  logger.warn('fetch https://bob:hunter2@git.example/repo.git failed', {
    url: 'https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2Fabc&X-Amz-Signature=deadbeefcafe&x=1',
    sas: 'https://acct.blob.core.windows.net/c/b?sv=2024&sig=SASSIGNATURE123',
    download: './archive.zip?checksum=sha256:ab&od_exp=1700000000&od_sig=ODSIGNATURE456',
    header: 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig',
    pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
  });
  for (const secret of ['hunter2', 'deadbeefcafe', 'AKIA%2Fabc', 'SASSIGNATURE123', 'ODSIGNATURE456', 'eyJhbGciOiJSUzI1NiJ9', 'MIIEow']) {
    assert.not.ok(raw().includes(secret), `${secret} was logged`);
  }
  assert.ok(raw().includes('https://bob:[REDACTED]@git.example/repo.git'), 'the rest of the URL stays readable');
  assert.ok(raw().includes('x=1'));
});

test('errors are logged with type, message, code, hint and cause, redacted', () => {
  const { logger, lines, raw } = captureLogger();
  const cause = new Error('connect to https://u:pw-in-cause@h failed');
  const err = new UnavailableError('upstream down', { cause, retryAfterMs: 1000, hint: 'retry later' });
  logger.error('reconcile failed', { err, other: new InputError('bad', { field: 'spec.x' }) });
  const logged = lines()[0]?.err as Record<string, unknown>;
  assert.is(logged.type, 'UnavailableError');
  assert.is(logged.message, 'upstream down');
  assert.is(logged.code, 'unavailable');
  assert.is(logged.retryAfterMs, 1000);
  assert.is(logged.hint, 'retry later');
  assert.match(String(logged.stack), /UnavailableError: upstream down/);
  assert.match(String((logged.cause as Record<string, unknown>).message), /https:\/\/u:\[REDACTED\]@h/);
  assert.not.ok(raw().includes('pw-in-cause'));
  assert.is((lines()[0]?.other as Record<string, unknown> | undefined)?.field, 'spec.x');
});

test('redact survives cycles, buffers and deep objects without touching the input', () => {
  const input: Record<string, unknown> = { a: { token: 'x' }, buf: new Uint8Array(4) };
  input.self = input;
  const out = redact(input) as Record<string, unknown>;
  assert.is(out.self, '[Circular]');
  assert.is(out.buf, '[Uint8Array 4 bytes]');
  assert.is((input.a as Record<string, unknown>).token, 'x', 'the input is not modified');
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 50; i++) deep = (deep.next = {}) as Record<string, unknown>;
  assert.match(JSON.stringify(redact(root)), /\[Truncated\]/);
});

test('isSecretKey and redactString on their own', () => {
  for (const key of [
    'password',
    'dbPassword',
    'token',
    'sessionToken',
    'authorization',
    'Authorization',
    'privateKey',
    'private_key',
    'credentials',
    'clientSecret',
    'apiKey',
    'x-api-key',
    'secretAccessKey',
    'connectionString',
    'cookie',
  ]) {
    assert.ok(isSecretKey(key), key);
  }
  for (const key of ['name', 'key', 'bucket', 'secretRef', 'credentialsSecretRef', 'secretName', 'tokenFile', 'accessKeyId', 'storageKey']) {
    assert.not.ok(isSecretKey(key), key);
  }
  assert.is(redactString('no secrets here: version 1.2.3'), 'no secrets here: version 1.2.3');
});

test('the default destination is standard output', () => {
  const logger = new URL('../src/logging/logger.ts', import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(logger)}; createLogger({ name: 'child' }).info('hi', { token: 'abc' });`;
  const run = spawnSync(process.execPath, ['--conditions=opendepot-source', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const line = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  assert.equal([line.name, line.msg, line.token, line.level], ['child', 'hi', REDACTED, 'info']);
});

test.run();
