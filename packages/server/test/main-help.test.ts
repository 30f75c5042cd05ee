/** `main.js --help` prints the usage and exits 0 without starting the server. */
import { ENV_MAPPINGS } from '@opendepot/core';
import { freePort, portRefused, runNodeEntry } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

for (const flag of ['--help', '-h']) {
  test(`${flag} prints the usage with --config and every variable, exits 0 and serves nothing`, async () => {
    const port = await freePort();
    const env = { ...process.env, OPENDEPOT_SERVER_PORT: String(port), OPENDEPOT_SERVER_HOST: '127.0.0.1', KUBECONFIG: '/nonexistent' };
    const { code, stdout, stderr } = await runNodeEntry(MAIN, [flag, '--config', '/nonexistent/config.yaml'], env);
    assert.is(code, 0, stderr);
    assert.is(stderr, '');
    assert.match(stdout, /^Usage: node main\.js \[--config FILE\]/);
    assert.match(stdout, /--config FILE/);
    assert.match(stdout, /-h, --help/);
    for (const name of ['OPENDEPOT_CONFIG', ...ENV_MAPPINGS.map((m) => m.name)]) assert.ok(stdout.includes(`  ${name} `), `${name} is listed`);
    assert.not.match(stdout, /^\{/m, 'no log line: nothing was started');
    assert.ok(await portRefused(port), 'nothing listens on the configured port');
  });
}

test.run();
