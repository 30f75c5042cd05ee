/**
 * The real `tofu login`, and `terraform login` of Terraform 1.5.7, with exactly the `login.v1`
 * this plugin advertises, against a real Dex: the CLI config's `host` block hands the CLI the
 * services (so no registry is needed), the test bed plays the browser on the URL the CLI prints,
 * the CLI receives the code on its loopback listener, exchanges it at Dex with PKCE and stores
 * the token (the test bed's `cliLogin`), and the plugin authenticates that token with the user's groups.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliConfigText, cliLogin, DEX_DEMO_PASSWORD, ensureTool, startDex } from '@opendepot/testbed';
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

for (const cli of ['tofu', 'terraform'] as const) test(`${cli} login with the advertised login.v1, through Dex's login form, stores a token the plugin accepts`, async () => {
  const bin = await ensureTool(cli);
  const home = await mkdtemp(join(tmpdir(), `opendepot-${cli}-login-`));
  homes.push(home);
  const provider = (await plugin.create({ issuerUrl: dex.issuer, clientId: CLIENT }, pluginContext())) as DexAuthProvider;
  const loginV1 = provider.loginV1();
  const config = join(home, 'tofurc');
  await writeFile(config, cliConfigText(HOST, { 'login.v1': { ...loginV1 } }, ''));
  const { authorizationUrl: url, callbackStatus, token } = await cliLogin(bin, { host: HOST, home, cliConfig: config, credentials: { login: 'alice@example.com', password: DEX_DEMO_PASSWORD } });
  assert.is(url.origin + url.pathname, loginV1.authz);
  assert.is(url.searchParams.get('client_id'), CLIENT);
  assert.is(url.searchParams.get('code_challenge_method'), 'S256');
  assert.is(url.searchParams.get('scope'), 'openid profile email groups');
  const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
  assert.ok(port >= 10000 && port < 10010, `port ${port} in the advertised range`);
  assert.is(callbackStatus, 200, `${cli} accepted the code on its listener`);
  const decision = await provider.authenticate(request(token));
  assert.is(decision.decision, 'allow');
  if (decision.decision === 'allow') {
    assert.equal(decision.principal.groups, ['aws-platform-team']);
    assert.is(decision.principal.claims.email, 'alice@example.com');
  }
});

test.run();
