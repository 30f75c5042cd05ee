/**
 * The real `tofu login`, and `terraform login` of Terraform 1.5.7, with exactly the `login.v1`
 * this plugin advertises, against a real Dex: the CLI config's `host` block hands the CLI the
 * services (so no registry is needed), the test bed plays the browser on the URL the CLI prints
 * (`cliLogin`), the CLI receives the code on its loopback listener, exchanges it at Dex with PKCE
 * and stores the token, and the plugin authenticates that token with the user's groups.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliLogin, DEX_DEMO_PASSWORD, startDex } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import plugin, { type DexAuthProvider } from '../src/index.ts';
import { pluginContext, request } from './support.ts';

const CLIENT = 'opendepot-cli';
const HOST = 'registry.test';
const dex = await startDex({ users: [{ email: 'alice@example.com', groups: ['aws-platform-team'] }], clients: [{ id: CLIENT, public: true }] });
const homes: string[] = [];
test.after(async () => {
  await dex.stop();
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

for (const cli of ['tofu', 'terraform'] as const)
  test(`${cli} login with the advertised login.v1, through Dex's login form, stores a token the plugin accepts`, async () => {
    const home = await mkdtemp(join(tmpdir(), `opendepot-${cli}-login-`));
    homes.push(home);
    const provider = (await plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT }, pluginContext())) as DexAuthProvider;
    const loginV1 = provider.loginV1();
    const config = join(home, 'tofurc');
    // HCL 1 object syntax (`key = value`), which the CLI config parser reads.
    const attributes = Object.entries(loginV1).map(([key, value]) => `      ${key} = ${JSON.stringify(value).replaceAll(',', ', ')}`);
    await writeFile(config, `host "${HOST}" {\n  services = {\n    "login.v1" = {\n${attributes.join('\n')}\n    }\n  }\n}\n`);

    const {
      authorizationUrl: url,
      callback,
      callbackStatus,
      token,
    } = await cliLogin(cli, HOST, {
      home,
      credentials: { login: 'alice@example.com', password: DEX_DEMO_PASSWORD },
      env: { TF_CLI_CONFIG_FILE: config },
    });
    assert.is(url.origin + url.pathname, loginV1.authz);
    assert.is(url.searchParams.get('client_id'), CLIENT);
    assert.is(url.searchParams.get('code_challenge_method'), 'S256');
    assert.is(url.searchParams.get('scope'), 'openid profile email groups');
    const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
    assert.ok(port >= 10000 && port < 10010, `port ${port} in the advertised range`);
    assert.ok(callback.searchParams.get('code'));
    // Terraform 1.5.7 may close its listener before answering, having taken the code (it exited 0 and stored the token).
    if (cli === 'tofu' || callbackStatus !== undefined) assert.is(callbackStatus, 200, `${cli} accepted the code on its listener`);

    const decision = await provider.authenticate(request(token));
    assert.is(decision.decision, 'allow');
    if (decision.decision === 'allow') {
      assert.equal(decision.principal.groups, ['aws-platform-team']);
      assert.is(decision.principal.claims.email, 'alice@example.com');
    }
  });

test.run();
